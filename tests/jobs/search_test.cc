#include "scalekit/jobs/search/search.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "run_command.h"
#include "scalekit/core/process_pool.h"

namespace search = scalekit::jobs::search;
using scalekit::core::executor_kind;
using scalekit::testing::temp_dir;

namespace {

// Three files in two directories, plus a binary file and an empty one.
void write_corpus(const temp_dir& d) {
  std::filesystem::create_directories(d.path / "src" / "deep");
  std::ofstream(d / "src/a.py") << "def alpha():\n    return 'alpha'\n\nclass Beta:\n  \tdef gamma(self): pass  \n";
  std::ofstream(d / "src/deep/b.py") << "# no newline at the end\ndef delta(): pass";
  std::ofstream(d / "notes.txt") << "alpha and omega\r\nnothing\r\n";
  std::ofstream(d / "blob.bin") << std::string("def \0 binary", 12);
  std::ofstream(d / "empty.txt");
}

std::unique_ptr<search::engine> open_engine(scalekit::core::executor& ex, const temp_dir& d, search::options o = {}) {
  std::vector<std::string> errors;
  auto e = search::engine::open(ex, d.path.string(), o, [&](const std::string& m) { errors.push_back(m); });
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_TRUE(errors.empty()) << errors.front();
  return std::move(e).value();
}

}  // namespace

class SearchOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {};

// Stripped lines in file order (sorted paths), the same on every executor and
// any number of workers.
TEST_P(SearchOnEveryExecutor, FindsStrippedLinesInFileOrder) {
  temp_dir d("search");
  write_corpus(d);
  for (std::size_t jobs : {1, 2, 3, 7}) {
    auto ex = scalekit::core::make_executor(GetParam(), {.jobs = jobs});
    auto e = open_engine(*ex, d);
    EXPECT_EQ(e->report().files, 4u);  // the binary file is skipped
    EXPECT_EQ(e->report().binary, 1u);
    EXPECT_EQ(e->report().lines, 9u);
    auto r = e->find("def");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->text, "def alpha():\ndef gamma(self): pass\ndef delta(): pass\n");  // src/a.py < src/deep/b.py
    EXPECT_EQ(r->lines, 3u);
    EXPECT_EQ(e->find("alpha")->text, "alpha and omega\ndef alpha():\nreturn 'alpha'\n");
    EXPECT_EQ(e->find("no such text")->lines, 0u);
    EXPECT_EQ(e->find("a\nb")->lines, 0u);  // no line holds a newline
  }
}

INSTANTIATE_TEST_SUITE_P(Executors, SearchOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes));

TEST(Search, FileNamesAndLineNumbers) {
  temp_dir d("search-hn");
  write_corpus(d);
  auto ex = scalekit::core::make_executor(executor_kind::processes, {.jobs = 2});
  auto e = open_engine(*ex, d, {.with_filename = true, .line_number = true});
  EXPECT_EQ(e->find("def")->text, d / "src/a.py" + ":1:def alpha():\n" + d / "src/a.py" + ":5:def gamma(self): pass\n" +
                                      d / "src/deep/b.py" + ":2:def delta(): pass\n");
  EXPECT_EQ(e->find("nothing")->text, d / "notes.txt" + ":2:nothing\n");
}

// Many queries in flight at once, each answered with its own lines.
TEST(Search, ManyQueriesInFlight) {
  temp_dir d("search-many");
  for (int f = 0; f < 20; ++f) {
    std::ofstream out(d / ("f" + std::to_string(f) + ".txt"));
    for (int l = 0; l < 500; ++l) out << "file " << f << " line " << l << " word" << (l % 50) << "\n";
  }
  auto ex = scalekit::core::make_executor(executor_kind::processes, {.jobs = 2});
  auto e = open_engine(*ex, d);
  std::vector<std::promise<scalekit::result<search::matches>>> answers(50);
  for (int w = 0; w < 50; ++w)
    e->submit("word" + std::to_string(w),
              [&answers, w](scalekit::result<search::matches> r) { answers[w].set_value(std::move(r)); });
  for (int w = 0; w < 50; ++w) {
    auto r = answers[w].get_future().get();
    ASSERT_TRUE(r.ok());
    // "word1" also matches word10..word19: 10 lines per file each, 20 files.
    EXPECT_EQ(r->lines, (w >= 1 && w <= 4 ? 11u : 1u) * 200) << w;
  }
}

// A worker that dies loses its share; its replacement loads it again on the
// next query, which still gets every line.
TEST(Search, AReplacedWorkerReloadsItsShare) {
  temp_dir d("search-crash");
  write_corpus(d);
  scalekit::core::process_pool pool({.workers = 2});
  auto e = open_engine(pool, d);
  const auto before = e->find("def");
  ASSERT_TRUE(before.ok());
  for (int pid : pool.get_worker_pids()) ::kill(pid, SIGKILL);
  for (int i = 0; i < 3; ++i) {
    const auto after = e->find("def");
    ASSERT_TRUE(after.ok()) << after.error().to_string();
    EXPECT_EQ(after->text, before->text);
  }
  EXPECT_GE(pool.get_stats().workers_replaced.load(), 2u);
}

TEST(Search, CorpusLimitRefusesFilesAndSaysSo) {
  temp_dir d("search-limit");
  write_corpus(d);
  auto ex = scalekit::core::make_executor(executor_kind::threads, {.jobs = 2});
  std::vector<std::string> errors;
  auto e =
      search::engine::open(*ex, d.path.string(), {.max_bytes = 60}, [&](const std::string& m) { errors.push_back(m); });
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("files not loaded: the corpus would pass the limit of 60 bytes"), std::string::npos)
      << errors[0];
  EXPECT_LT(e.value()->report().files, 4u);
  EXPECT_FALSE(search::engine::open(*ex, (d / "missing"), {}, [](const std::string&) {}).ok());
}

int main(int argc, char** argv) {
  search::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
