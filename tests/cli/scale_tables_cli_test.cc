// Integration tests of `scalekit scale tables`: the real binary at --quick
// sizes. Every chapter table is there with the chapter's rows and columns
// and a positive figure of scalekit's in every cell (the thumbnails fetched
// from scalekit's own dummyimage server on loopback). No timing is asserted.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli_helpers.h"

using scalekit::testing::run_scalekit;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

// The chapters' tables as they print them: id, label columns, value columns, rows.
struct expected_table {
  std::string id;
  std::vector<std::string> labels, values;
  std::vector<std::vector<std::string>> rows;  // each row's labels
};

const std::vector<expected_table>& chapters() {
  static const std::vector<expected_table> all{
      {"thumbnails", {"version"}, {"time"}, {{"serial"}, {"a thread per URL"}}},
      {"limits", {"limiter"}, {"thumbnails saved"}, {{"Lock"}, {"BoundedSemaphore"}}},
      {"primes", {"version"}, {"real", "user"}, {{"4 threads"}, {"Pool(4) processes"}}},
      {"sort-memory", {"files (n)"}, {"time to sort"}, {{"1000"}, {"10000"}, {"100000"}, {"1000000"}}},
      {"sort-counter", {"files (n)"}, {"time to sort"}, {{"1000"}, {"10000"}, {"100000"}, {"1000000"}}},
      {"sort-pool",
       {"files (n)", "pool size"},
       {"time to sort"},
       {{"1000", "2"},
        {"1000", "4"},
        {"10000", "2"},
        {"10000", "4"},
        {"100000", "2"},
        {"100000", "4"},
        {"1000000", "2"},
        {"1000000", "4"}}},
      {"mandelbrot",
       {"version", "iterations"},
       {"time"},
       {{"serial", "1000"},
        {"serial", "10000"},
        {"PyMP, 4 processes", "10000"},
        {"Celery, 4 workers", "1000"},
        {"Celery, 4 workers", "10000"}}},
      {"muchcpu", {"MuchCPU subclasses"}, {"work took"}, {{"multiprocessing.Process"}, {"threading.Thread"}}},
      {"rle-image", {"rows on"}, {"time"}, {{"ProcessPoolExecutor"}, {"ThreadPoolExecutor"}}},
      {"rle-dir",
       {"per row"},
       {"process pool per image", "thread pool per image"},
       {{"process pool"}, {"thread pool"}}},
  };
  return all;
}

}  // namespace

TEST(CliScaleTables, QuickTablesHaveTheChaptersRowsAndColumnsAndPositiveFigures) {
  temp_dir dir("tables");
  const std::string report = dir / "report";
  auto r = run_scalekit("--json scale tables --quick --report " + report);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["job"], "scale tables");
  EXPECT_EQ(j["size"], "quick");
  const auto& tables = j["tables"];
  ASSERT_EQ(tables.size(), chapters().size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const auto& want = chapters()[t];
    const auto& got = tables[t];
    SCOPED_TRACE(want.id);
    EXPECT_EQ(got["id"], want.id);
    EXPECT_FALSE(got["source"].get<std::string>().empty());
    std::vector<std::string> labels, values;
    for (const auto& c : got["columns"]) (c["kind"] == "label" ? labels : values).push_back(c["name"]);
    EXPECT_EQ(labels, want.labels);
    EXPECT_EQ(values, want.values);
    ASSERT_EQ(got["rows"].size(), want.rows.size());
    for (std::size_t i = 0; i < want.rows.size(); ++i) {
      const auto& row = got["rows"][i];
      std::vector<std::string> row_labels;
      for (const auto& l : row["labels"]) row_labels.push_back(l["value"]);
      EXPECT_EQ(row_labels, want.rows[i]);
      EXPECT_GT(row["run_at"].get<double>(), 0);
      ASSERT_EQ(row["cells"].size(), want.values.size());
      for (const auto& cell : row["cells"]) {
        ASSERT_TRUE(cell["scalekit_s"].is_number()) << cell;
        EXPECT_GT(cell["scalekit_s"].get<double>(), 0) << cell;
        // The chapter's figure, or its words for why there is none.
        EXPECT_TRUE(cell["chapter_s"].is_number() || !cell["chapter_text"].get<std::string>().empty()) << cell;
        EXPECT_EQ(cell["seed_text"], "-");  // no --with-seed
        // A limit is kept exactly: the thumbnails saved are the limit, neither more nor less.
        if (cell["metric"] == "files") {
          EXPECT_EQ(cell["scalekit_s"], row["run_at"]) << cell;
        }
      }
    }
  }
  // The report files: the same JSON (without the terminal's lines), and the terminal's tables.
  auto without_lines = j;
  without_lines.erase("lines");
  EXPECT_EQ(nlohmann::json::parse(slurp(report + "/tables.json")), without_lines);
  const std::string text = slurp(report + "/tables.txt");
  for (const auto& t : chapters()) EXPECT_NE(text.find("\n" + t.id + ": "), std::string::npos) << t.id;
  EXPECT_NE(text.find("time to sort: chapter s  scalekit s"), std::string::npos) << text;
}

TEST(CliScaleTables, TheTerminalShowsTheChaptersFiguresBesideScalekits) {
  auto r = run_scalekit("scale tables --quick --only muchcpu,rle-dir");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("muchcpu: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("sort-memory: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("work took: chapter s  scalekit s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("multiprocessing.Process  20000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("process pool per image: chapter s  scalekit s  thread pool per image: chapter s"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("scale tables: 2 tables, 6 runs"), std::string::npos) << r.err;
}

TEST(CliScaleTables, TheSeedsPythonRunsBesideWithATimeout) {
  // sort-counter's seed program at quick sizes takes well under the timeout;
  // primes' seed programs have their 1000 numbers built in, so at 100 they do not run.
  auto r = run_scalekit("--json scale tables --quick --only sort-counter,primes --with-seed --seed-timeout 60");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tables"].size(), 2u);
  for (const auto& row : j["tables"][0]["rows"]) {
    ASSERT_TRUE(row["cells"][0]["seed_s"].is_number()) << row;
    EXPECT_GT(row["cells"][0]["seed_s"].get<double>(), 0);
  }
  for (const auto& row : j["tables"][1]["rows"]) EXPECT_EQ(row["cells"][0]["seed_text"], "only at 1000") << row;
}

TEST(CliScaleTables, AnUnknownTableIsBadUsage) {
  auto r = run_scalekit("scale tables --quick --only sort-memory,nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'nope' is not a chapter table (thumbnails, limits, primes, sort-memory"), std::string::npos)
      << r.err;
  EXPECT_EQ(run_scalekit("scale tables --quick --full").exit_code, 2);
  EXPECT_EQ(run_scalekit("scale tables --seed-timeout 0").exit_code, 2);
}
