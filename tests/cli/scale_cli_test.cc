// Integration tests of `scalekit scale fit`: the real binary on a fixture
// whose parameters are known (tests/fixtures/scale/usl_synthetic.csv:
// λ = 1000, σ = 0.05, κ = 0.001, ±2% noise).

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::temp_dir;

namespace {

const std::string fixture = std::string(SCALEKIT_SCALE_FIXTURES) + "/usl_synthetic.csv";

}  // namespace

TEST(CliScale, FitSummaryOnTheTerminal) {
  auto r = run_scalekit("scale fit " + fixture);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("13 points, 13 distinct N"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("USL     λ = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak    N* = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ceiling λ/σ = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Karp-Flatt"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("scale fit: " + fixture + ": 13 points"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("N*="), std::string::npos) << r.err;
}

TEST(CliScale, FitJsonRecoversTheParameters) {
  auto r = run_scalekit("--json scale fit " + fixture);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["job"], "scale fit");
  EXPECT_EQ(j["distinct_n"], 13);
  EXPECT_EQ(j["thin_data"], false);
  const auto& usl = j["models"][0];
  ASSERT_EQ(usl["model"], "usl");
  for (const auto& [key, truth] : {std::pair{"lambda", 1000.0}, {"sigma", 0.05}, {"kappa", 0.001}}) {
    const double v = usl[key], lo = usl[std::string(key) + "_low"], hi = usl[std::string(key) + "_high"];
    EXPECT_NEAR(v, truth, 0.15 * truth) << key;
    EXPECT_LE(lo, truth) << key;
    EXPECT_GE(hi, truth) << key;
  }
  EXPECT_GT(usl["r2"].get<double>(), 0.99);
  EXPECT_EQ(j["models"][1]["model"], "amdahl");
  EXPECT_FALSE(j["models"][1].contains("kappa"));
  // The peak the parameters imply, √((1−σ)/κ), and ≈ the truth's 30.8.
  const double peak = j["peak_concurrency"];
  EXPECT_NEAR(peak, std::sqrt((1 - usl["sigma"].get<double>()) / usl["kappa"].get<double>()), 1e-9 * peak);
  EXPECT_NEAR(peak, 30.8, 3);
  EXPECT_EQ(j["x1_source"], "measured");
  ASSERT_EQ(j["points"].size(), 13u);
  EXPECT_TRUE(j["points"][0]["karp_flatt"].is_null());  // N = 1: undefined
  EXPECT_NEAR(j["points"][1]["speedup"].get<double>(), 1874.59 / 992.95, 1e-9);
}

// The published SPEC SDM91 fit (the fixture's comment): three significant figures and more.
TEST(CliScale, FitReproducesPublishedSpecSdm91) {
  auto r = run_scalekit("--json scale fit " + std::string(SCALEKIT_SCALE_FIXTURES) + "/specsdm91.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto usl = nlohmann::json::parse(r.out)["models"][0];
  EXPECT_NEAR(usl["sigma"].get<double>(), 0.0277285, 5e-7);
  EXPECT_NEAR(usl["kappa"].get<double>(), 0.0001044, 5e-8);
  EXPECT_NEAR(usl["lambda"].get<double>(), 89.995233, 5e-6);
}

TEST(CliScale, StdinJsonAndAmdahlData) {
  temp_dir dir("scale");
  {
    std::ofstream f(dir / "a.json");
    f << "[";
    for (int n : {2, 4, 8, 16})
      f << (n > 2 ? "," : "") << "{\"n\":" << n << ",\"x\":" << 100.0 * n / (1 + 0.2 * (n - 1)) << "}";
    f << "]\n";
  }
  auto r = run_command("sh -c '" + bin + " --json scale fit - < " + (dir / "a.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["peak_concurrency"].is_null());  // κ = 0: no peak
  EXPECT_EQ(j["x1_source"], "fitted");           // no N = 1 measured
  EXPECT_NEAR(j["amdahl_ceiling"].get<double>(), 500, 1e-3);
  EXPECT_EQ(j["file"], "stdin");
  EXPECT_EQ(j["thin_data"], true);  // four distinct N
  EXPECT_NE(r.err.find("scalekit scale fit: stdin: only 4 distinct N"), std::string::npos) << r.err;
}

TEST(CliScale, BadInputIsOneLineAndStatus2) {
  temp_dir dir("scale");
  {
    std::ofstream f(dir / "bad.csv");
    f << "n,x\n1,10\n2,lots\n";
  }
  auto r = run_scalekit("scale fit " + (dir / "bad.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "scalekit scale fit: " + (dir / "bad.csv") + ":3: throughput 'lots' is not a number\n");
  {
    std::ofstream f(dir / "thin.csv");
    f << "n,x\n1,10\n2,19\n";
  }
  r = run_scalekit("scale fit " + (dir / "thin.csv"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("at least 3 distinct"), std::string::npos) << r.err;
  EXPECT_EQ(run_scalekit("scale").exit_code, 2);      // a subcommand is required
  EXPECT_EQ(run_scalekit("scale fit").exit_code, 2);  // FILE is required
  auto help = run_scalekit("scale --help");
  EXPECT_NE(help.out.find("scale tables"), std::string::npos) << help.out;
}
