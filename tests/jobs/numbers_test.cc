#include "scalekit/jobs/numbers/numbers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "run_command.h"
#include "scalekit/core/process_pool.h"

using namespace scalekit::jobs::numbers;
namespace fs = std::filesystem;
using scalekit::core::collecting_observer;
using scalekit::core::executor_kind;
using scalekit::core::report;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {
struct parsed {
  std::vector<std::uint32_t> values;
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0;
};
parsed parse(std::string_view text, std::uint32_t max = 100) {
  parsed p;
  parse_file(
      text, "f.txt", max, [&](std::uint32_t v) { p.values.push_back(v); }, p.bad, p.bad_count, 10);
  return p;
}
}  // namespace

TEST(Numbers, ParsesCanonicalIntegers) {
  auto p = parse("1\n20\n0\n100");  // no final newline is fine
  EXPECT_EQ(p.values, (std::vector<std::uint32_t>{1, 20, 0, 100}));
  EXPECT_EQ(p.bad_count, 0u);
}

TEST(Numbers, NamesEveryBadLine) {
  auto p = parse("5\nabc\n\n-3\n007\n101\n99999999999999999999\n7 \n8\n");
  EXPECT_EQ(p.values, (std::vector<std::uint32_t>{5, 8}));
  ASSERT_EQ(p.bad_count, 7u);
  EXPECT_EQ(p.bad[0].message, "f.txt:2: 'abc': not a number");
  EXPECT_EQ(p.bad[1].message, "f.txt:3: '': empty line, not a number");
  EXPECT_EQ(p.bad[2].message, "f.txt:4: '-3': negative numbers are not allowed");
  EXPECT_NE(p.bad[3].message.find("f.txt:5: '007': leading zero"), std::string::npos);
  EXPECT_EQ(p.bad[4].message, "f.txt:6: '101': out of range for the counter (0..100)");
  EXPECT_NE(p.bad[5].message.find("f.txt:7:"), std::string::npos);
  EXPECT_EQ(p.bad[6].message, "f.txt:8: '7 ': not a number");
}

TEST(Numbers, KeepsAtMostTheMessageLimitButCountsAll) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "x\n";
  auto p = parse(text);
  EXPECT_EQ(p.bad_count, 50u);
  EXPECT_EQ(p.bad.size(), 10u);
}

TEST(Numbers, FileValuesAreDeterministicAndInRange) {
  std::vector<std::uint32_t> a, b, c;
  file_values(7, 123, 1000, 10000, a);
  file_values(7, 123, 1000, 10000, b);
  file_values(8, 123, 1000, 10000, c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (auto v : a) {
    EXPECT_GE(v, 1u);
    EXPECT_LE(v, 10000u);
  }
}

TEST(Numbers, AppendLineAndPaths) {
  std::string s;
  append_line(s, 0);
  append_line(s, 4294967295u);
  EXPECT_EQ(s, "0\n4294967295\n");
  EXPECT_EQ(file_path("numbers", 5), "numbers/numbers_5.txt");
}

// ---- the job, through its entries, on every executor ----

namespace {

std::uint64_t field(const report& r, const char* key) {
  const auto* v = r.find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? std::get<std::uint64_t>(*v) : 0;
}

// What file i must hold.
std::string file_text(std::uint64_t seed, std::uint64_t i, std::uint32_t per_file, std::uint32_t max) {
  std::vector<std::uint32_t> values;
  file_values(seed, i, per_file, max, values);
  std::string text;
  for (auto v : values) append_line(text, v);
  return text;
}

// Every value of files 0..n-1, sorted, as lines: what sort must write.
std::string sorted_text(std::uint64_t seed, std::uint64_t n, std::uint32_t per_file, std::uint32_t max) {
  std::vector<std::uint32_t> all, values;
  for (std::uint64_t i = 0; i < n; ++i) {
    file_values(seed, i, per_file, max, values);
    all.insert(all.end(), values.begin(), values.end());
  }
  std::sort(all.begin(), all.end());
  std::string text;
  for (auto v : all) append_line(text, v);
  return text;
}

// Names in `dir` that are neither numbers_<i>.txt nor listed in `expected`:
// the temporaries an interrupted write would leave.
std::vector<std::string> strays(const fs::path& dir, const std::vector<std::string>& expected = {}) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("numbers_", 0) == 0 || std::find(expected.begin(), expected.end(), name) != expected.end()) continue;
    out.push_back(name);
  }
  return out;
}

// Requests the stop at the first progress: a stop in the middle of the work.
class stop_at_first_progress : public collecting_observer {
 public:
  explicit stop_at_first_progress(std::stop_source& s) : collecting_observer(s.get_token()), source_(s) {}
  void progress(std::uint64_t done, std::uint64_t total, std::string_view unit) override {
    collecting_observer::progress(done, total, unit);
    source_.request_stop();
  }

 private:
  std::stop_source& source_;
};

}  // namespace

class NumbersOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  std::unique_ptr<scalekit::core::executor> make() { return scalekit::core::make_executor(GetParam(), {.jobs = 2}); }
};

TEST_P(NumbersOnEveryExecutor, GenWritesTheSeedsFilesAndSortMergesThem) {
  temp_dir d("numbers-job");
  const gen_options g{.dir = d / "n", .files = 50, .per_file = 20, .max = 500, .seed = 7, .files_per_task = 3};
  {
    auto ex = make();
    collecting_observer obs;
    auto r = generate(g, *ex, obs);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_TRUE(obs.messages().empty());
    EXPECT_TRUE(obs.text().empty());  // files, not output lines
    EXPECT_EQ(obs.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{50, 50}));
    std::uint64_t bytes = 0;
    for (std::uint64_t i = 0; i < 50; ++i) {
      const std::string want = file_text(7, i, 20, 500);
      EXPECT_EQ(slurp(file_path(g.dir, i)), want) << i;
      bytes += want.size();
    }
    EXPECT_EQ(field(*r, "files"), 50u);
    EXPECT_EQ(field(*r, "numbers"), 1000u);
    EXPECT_EQ(field(*r, "bytes"), bytes);
    EXPECT_EQ(field(*r, "bad_inputs"), 0u);
    EXPECT_EQ(field(*r, "tasks"), 17u);  // ceil(50 / 3)
    EXPECT_EQ(r->failures, 0u);
    EXPECT_TRUE(strays(g.dir).empty());
  }
  const std::string want = sorted_text(7, 50, 20, 500);
  for (auto method : {sort_method::counter, sort_method::memory}) {
    auto ex = make();
    collecting_observer obs;
    const sort_options s{.dir = g.dir, .files = 50, .output = d / "sorted.txt", .method = method, .max = 1000};
    auto r = sort(s, *ex, obs);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_TRUE(obs.messages().empty());
    EXPECT_EQ(slurp(s.output), want);
    EXPECT_EQ(field(*r, "numbers"), 1000u);
    EXPECT_EQ(field(*r, "bytes"), want.size());
    EXPECT_EQ(r->failures, 0u);
    EXPECT_EQ(std::get<std::string>(*r->find("method")), method == sort_method::memory ? "memory" : "counter");
    EXPECT_EQ(std::get<std::string>(*r->find("output")), s.output);
  }
}

// Each bad input is a message and a failure; nothing is written, and the old
// output stays.
TEST_P(NumbersOnEveryExecutor, BadInputsAreMessagesAndFailuresAndWriteNothing) {
  temp_dir d("numbers-bad");
  auto ex = make();
  collecting_observer quiet;
  ASSERT_TRUE(generate({.dir = d / "n", .files = 20, .per_file = 10, .max = 100}, *ex, quiet).ok());
  std::ofstream(d / "n/numbers_3.txt", std::ios::app) << "12x\n";
  fs::remove(d / "n/numbers_11.txt");
  std::ofstream(d / "sorted.txt") << "previous good output\n";
  for (auto method : {sort_method::counter, sort_method::memory}) {
    auto sorter = make();
    collecting_observer obs;
    auto r = sort({.dir = d / "n", .files = 20, .output = d / "sorted.txt", .method = method}, *sorter, obs);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->failures, 2u);
    EXPECT_EQ(field(*r, "bad_inputs"), 2u);
    auto m = obs.messages();
    std::sort(m.begin(), m.end());
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0], d / "n/numbers_3.txt" + ":11: '12x': not a number");  // sorted: '/' before 'c'
    EXPECT_EQ(m[1], "cannot read '" + d / "n/numbers_11.txt" + "': no such file or directory");
    EXPECT_EQ(slurp(d / "sorted.txt"), "previous good output\n");
    EXPECT_TRUE(strays(d.path, {"n", "sorted.txt"}).empty());
  }
}

TEST_P(NumbersOnEveryExecutor, AtMostTwentyBadInputsAreShownAndAllCounted) {
  temp_dir d("numbers-many-bad");
  fs::create_directories(d.path / "n");
  for (int i = 0; i < 30; ++i) std::ofstream(d / ("n/numbers_" + std::to_string(i) + ".txt")) << "1\nx\n2\n";
  auto ex = make();
  collecting_observer obs;
  auto r = sort({.dir = d / "n", .files = 40, .output = d / "out.txt", .files_per_task = 4}, *ex, obs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failures, 40u);  // 30 bad lines, 10 missing files
  const auto m = obs.messages();
  ASSERT_EQ(m.size(), 21u);
  EXPECT_EQ(m.back(), "... and 20 more bad inputs");
  EXPECT_FALSE(fs::exists(d / "out.txt"));
}

// A file that cannot be written is a message naming it; the others are written.
TEST_P(NumbersOnEveryExecutor, AFileThatCannotBeWrittenIsAFailure) {
  temp_dir d("numbers-unwritable");
  fs::create_directories(d.path / "n" / "numbers_2.txt");  // a directory in the way
  auto ex = make();
  collecting_observer obs;
  auto r = generate({.dir = d / "n", .files = 5, .per_file = 3}, *ex, obs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failures, 1u);
  ASSERT_EQ(obs.messages().size(), 1u);
  EXPECT_EQ(obs.messages()[0], "cannot write '" + d / "n/numbers_2.txt" + "': Is a directory");
  EXPECT_EQ(slurp(d / "n/numbers_4.txt"), file_text(0, 4, 3, 10000));
  EXPECT_TRUE(strays(d.path / "n").empty());
  EXPECT_EQ(generate({.dir = d / "n/numbers_4.txt/sub", .files = 1}, *ex, obs).error().code(),
            scalekit::status_code::io_error);
}

// A stop in the middle of gen ends it as cancelled; every file on disk is
// whole (a cancelled worker process removes its temporary as it dies).
TEST_P(NumbersOnEveryExecutor, AStopLeavesOnlyWholeFiles) {
  temp_dir d("numbers-stop");
  auto ex = make();
  std::stop_source stop;
  stop_at_first_progress obs(stop);
  auto r = generate({.dir = d / "n", .files = 2000, .per_file = 50, .seed = 3, .files_per_task = 50}, *ex, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_TRUE(obs.messages().empty());  // the calls the stop cancelled are not failures
  ex.reset();                           // the workers are gone
  std::size_t whole = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    if (!fs::exists(file_path(d / "n", i))) continue;
    EXPECT_EQ(slurp(file_path(d / "n", i)), file_text(3, i, 50, 10000)) << i;
    ++whole;
  }
  EXPECT_GE(whole, 50u);  // the first call's files
  // The serial executor runs every call inside dispatch(), before the first
  // progress: there the stop comes after the work.
  if (GetParam() != executor_kind::serial) {
    EXPECT_LT(whole, 2000u);
  }
  const auto left = strays(d.path / "n");
  EXPECT_TRUE(left.empty()) << left.size() << " left, such as " << left.front();
}

TEST_P(NumbersOnEveryExecutor, AStopBeforeSortWritesNothing) {
  temp_dir d("numbers-stop-sort");
  auto ex = make();
  collecting_observer quiet;
  ASSERT_TRUE(generate({.dir = d / "n", .files = 10}, *ex, quiet).ok());
  std::stop_source stop;
  stop.request_stop();
  collecting_observer obs(stop.get_token());
  auto sorter = make();
  auto r = sort({.dir = d / "n", .files = 10, .output = d / "out.txt"}, *sorter, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_TRUE(strays(d.path, {"n"}).empty());  // neither out.txt nor its temporary
}

INSTANTIATE_TEST_SUITE_P(Executors, NumbersOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(scalekit::core::to_string(p.param)); });

TEST(Numbers, RefusesBadOptions) {
  auto ex = scalekit::core::make_inline_executor();
  collecting_observer obs;
  EXPECT_EQ(generate({.files = 0}, *ex, obs).error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(generate({.files = 1, .max = 0}, *ex, obs).error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(sort({.files = 0}, *ex, obs).error().code(), scalekit::status_code::invalid_argument);
}

int main(int argc, char** argv) {
  register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
