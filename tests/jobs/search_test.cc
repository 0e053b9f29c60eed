#include "scalekit/jobs/search/search.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "run_command.h"
#include "scalekit/core/process_pool.h"

namespace search = scalekit::jobs::search;
using scalekit::core::collecting_observer;
using scalekit::core::executor_kind;
using scalekit::core::report;
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

std::unique_ptr<search::engine> open_engine(scalekit::core::executor& ex, const temp_dir& d,
                                            search::engine_options o = {}) {
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

// ---- the job, through its entry ----

namespace {

std::uint64_t field(const report& r, const char* key) {
  const auto* v = r.find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? std::get<std::uint64_t>(*v) : 0;
}

// A pipe whose ends close with it (and are not inherited by worker
// processes, which would keep it open).
struct pipe_pair {
  int read_end = -1, write_end = -1;
  pipe_pair() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~pipe_pair() {
    close_write();
    ::close(read_end);
  }
  void write(const std::string& s) const { EXPECT_EQ(::write(write_end, s.data(), s.size()), ssize_t(s.size())); }
  void close_write() {
    if (write_end >= 0) ::close(write_end);
    write_end = -1;
  }
};

}  // namespace

class SearchJobOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  std::unique_ptr<scalekit::core::executor> make() { return scalekit::core::make_executor(GetParam(), {.jobs = 2}); }
};

// Each query's lines, in the order the queries were given, and the report's counts.
TEST_P(SearchJobOnEveryExecutor, AnswersTheQueriesInOrder) {
  temp_dir d("search-job");
  write_corpus(d);
  auto ex = make();
  collecting_observer obs;
  auto r = search::run({.dir = d.path.string(), .queries = {"def", "no such text", "alpha"}, .in_flight = 2}, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(obs.text(),
            "def alpha():\ndef gamma(self): pass\ndef delta(): pass\n"
            "alpha and omega\ndef alpha():\nreturn 'alpha'\n");
  EXPECT_TRUE(obs.messages().empty());
  EXPECT_EQ(field(*r, "files"), 4u);
  EXPECT_EQ(field(*r, "text_lines"), 9u);
  EXPECT_EQ(field(*r, "binary_skipped"), 1u);
  EXPECT_EQ(field(*r, "unreadable"), 0u);
  EXPECT_EQ(field(*r, "shares"), ex->concurrency());
  EXPECT_EQ(field(*r, "queries"), 3u);
  EXPECT_EQ(field(*r, "matching_lines"), 6u);
  EXPECT_EQ(field(*r, "failed_queries"), 0u);
  EXPECT_GT(std::get<double>(*r->find("query_p50_us")), 0.0);
  EXPECT_EQ(r->failures, 0u);
}

// Queries read from a descriptor, one per line: '\r' dropped, blank lines
// skipped, the last line counted without its '\n'.
TEST_P(SearchJobOnEveryExecutor, ReadsQueriesOnePerLine) {
  temp_dir d("search-job-fd");
  write_corpus(d);
  pipe_pair queries;
  queries.write("nothing\r\n\n\ndef delta\nomega");
  queries.close_write();
  auto ex = make();
  collecting_observer obs;
  auto r = search::run({.dir = d.path.string(), .query_fd = queries.read_end}, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(obs.text(), "nothing\ndef delta(): pass\nalpha and omega\n");
  EXPECT_EQ(field(*r, "queries"), 3u);
  EXPECT_EQ(field(*r, "matching_lines"), 3u);
}

INSTANTIATE_TEST_SUITE_P(Executors, SearchJobOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(scalekit::core::to_string(p.param)); });

// A dialogue: the next query is sent only once the last one is answered, so
// each answer must come while the job waits for more input, with room for
// many more in flight. (Were answers held until the window filled or the
// input ended, the watchdog would stop the job after 10 s: cancelled.)
TEST(SearchJob, AnswersEachQueryAsItComes) {
  temp_dir d("search-dialogue");
  write_corpus(d);
  pipe_pair queries;
  const std::vector<std::string> asked = {"alpha", "def", "omega", "pass"};
  std::stop_source timeout;
  class dialogue : public collecting_observer {
   public:
    dialogue(std::stop_token stop, pipe_pair& p, const std::vector<std::string>& q)
        : collecting_observer(std::move(stop)), pipe_(p), queries_(q) {
      next();
    }
    void output(std::string_view lines) override {
      collecting_observer::output(lines);
      next();
    }

   private:
    void next() {
      if (sent_ < queries_.size()) {
        pipe_.write(queries_[sent_++] + "\n");
      } else {
        pipe_.close_write();
      }
    }
    pipe_pair& pipe_;
    const std::vector<std::string>& queries_;
    std::size_t sent_ = 0;
  } obs(timeout.get_token(), queries, asked);
  std::jthread watchdog([&timeout](std::stop_token done) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, done, std::chrono::seconds(10), [] { return false; }) && !done.stop_requested())
      timeout.request_stop();
  });
  auto ex = scalekit::core::make_executor(executor_kind::processes, {.jobs = 2});
  auto r = search::run({.dir = d.path.string(), .query_fd = queries.read_end, .in_flight = 64}, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(field(*r, "queries"), 4u);
  EXPECT_EQ(obs.text(),
            "alpha and omega\ndef alpha():\nreturn 'alpha'\n"
            "def alpha():\ndef gamma(self): pass\ndef delta(): pass\n"
            "alpha and omega\n"
            "def gamma(self): pass\ndef delta(): pass\n");
}

// A stop ends a wait for input at once: cancelled.
TEST(SearchJob, AStopEndsTheWaitForQueries) {
  temp_dir d("search-stop");
  write_corpus(d);
  pipe_pair queries;  // open, and silent
  queries.write("def\n");
  std::stop_source stop;
  collecting_observer obs(stop.get_token());
  std::jthread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  auto ex = scalekit::core::make_executor(executor_kind::processes, {.jobs = 2});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = search::run({.dir = d.path.string(), .query_fd = queries.read_end}, *ex, obs);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_EQ(obs.text(), "def alpha():\ndef gamma(self): pass\ndef delta(): pass\n");  // answered before the stop
}

// For a person: one query at a time, a message when the corpus is loaded and
// one with each answer's line count.
TEST(SearchJob, InteractiveSaysWhatItDoes) {
  temp_dir d("search-interactive");
  write_corpus(d);
  pipe_pair queries;
  queries.write("def\nomega\n");
  queries.close_write();
  auto ex = scalekit::core::make_executor(executor_kind::threads, {.jobs = 2});
  collecting_observer obs;
  auto r = search::run({.dir = d.path.string(), .query_fd = queries.read_end, .interactive = true}, *ex, obs);
  ASSERT_TRUE(r.ok());
  const auto m = obs.messages();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].rfind("loaded 4 files (9 lines, 0.0 MiB) in 2 shares in ", 0), 0u) << m[0];
  EXPECT_NE(m[0].find("; type a query per line, Ctrl-D to end"), std::string::npos) << m[0];
  EXPECT_EQ(m[1], "(3 lines)");
  EXPECT_EQ(m[2], "(1 lines)");
}

// Files refused or unreadable are messages and failures; a DIR that is not a
// directory fails the job (not bad usage).
TEST(SearchJob, ProblemsAreMessagesAndFailures) {
  temp_dir d("search-job-problems");
  write_corpus(d);
  auto ex = scalekit::core::make_executor(executor_kind::threads, {.jobs = 2});
  collecting_observer obs;
  auto r = search::run({.dir = d.path.string(), .engine = {.max_bytes = 60}, .queries = {"def"}}, *ex, obs);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(obs.messages().size(), 1u);
  EXPECT_NE(obs.messages()[0].find("files not loaded: the corpus would pass the limit of 60 bytes"), std::string::npos);
  EXPECT_GT(r->failures, 0u);
  EXPECT_EQ(r->failures, field(*r, "unreadable"));
  EXPECT_EQ(search::run({.dir = d / "missing", .queries = {"x"}}, *ex, obs).error().code(),
            scalekit::status_code::not_found);
  EXPECT_EQ(search::run({.dir = d / "notes.txt", .queries = {"x"}}, *ex, obs).error().code(),
            scalekit::status_code::io_error);
}

int main(int argc, char** argv) {
  search::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
