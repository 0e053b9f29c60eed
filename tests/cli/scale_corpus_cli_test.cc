// Integration tests of the sweeps whose inputs are made before the sweep:
// thumbnail (PNG pictures, the job run as a command of scalekit-heavy) and
// search (a generated text tree, through the job's library entry).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_helpers.h"

using scalekit::testing::run_scalekit;

TEST(CliScaleCorpus, ThumbnailSweepOfAFewImages) {
  auto r = run_scalekit("--json scale thumbnail --workers 1,2 --sizes 3,9 --repeat 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["size_name"], "images");
  ASSERT_EQ(j["points"].size(), 8u);  // threads and processes, 1 and 2 workers, 2 sizes
  for (const auto& p : j["points"]) {
    EXPECT_EQ(p["unit"], "images") << p;
    EXPECT_GT(p["throughput"].get<double>(), 0) << p;
    EXPECT_GT(p["user_s"].get<double>() + p["sys_s"].get<double>(), 0) << p;
  }
  for (const auto& run : j["runs"]) {  // every image made: none failed, none skipped
    const double items = run["throughput"].get<double>() * run["wall_s"].get<double>();
    EXPECT_NEAR(items, run["size"].get<double>(), 0.01) << run;
  }
  EXPECT_EQ(r.err.find("failed"), std::string::npos) << r.err;
  EXPECT_EQ(run_scalekit("scale thumbnail --executors serial --repeat 1").exit_code, 2);  // threads or processes
}

TEST(CliScaleCorpus, SearchSweepOfASmallTree) {
  auto r = run_scalekit("--json scale search --workers 1,2 --sizes 150 --repeat 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["size_name"], "files");
  ASSERT_EQ(j["points"].size(), 5u);  // serial; threads and processes at 1 and 2
  for (const auto& p : j["points"]) {
    EXPECT_EQ(p["unit"], "queries") << p;
    EXPECT_GT(p["throughput"].get<double>(), 0) << p;
  }
  for (const auto& run : j["runs"])  // every query answered
    EXPECT_NEAR(run["throughput"].get<double>() * run["wall_s"].get<double>(), 40, 0.01) << run;
  EXPECT_EQ(r.err.find("failed"), std::string::npos) << r.err;
}
