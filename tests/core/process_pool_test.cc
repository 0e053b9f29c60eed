#include "scalekit/core/process_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "scalekit/core/wire.h"

using namespace scalekit::core;
using scalekit::result;
using scalekit::status;
using scalekit::status_code;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("scalekit-pp-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
bool process_gone(int pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(stat, s);
  const auto close = s.rfind(')');
  return close != std::string::npos && close + 2 < s.size() && s[close + 2] == 'Z';  // zombie: dead
}
}  // namespace

TEST(ProcessPool, RunsInOtherProcesses) {
  process_pool pool({.workers = 2});
  std::vector<bytes> in(20);
  auto out = pool.map("test.pid", in);
  std::set<std::string> pids;
  for (auto& r : out) {
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    pids.insert(r.value());
  }
  EXPECT_EQ(pids.count(std::to_string(::getpid())), 0u);
  EXPECT_LE(pids.size(), 2u);
}

TEST(ProcessPool, CrashedCallRunsOnceMoreAndSucceeds) {
  const auto dir = temp_dir();
  process_pool pool({.workers = 2});
  auto out = pool.map("test.crash_once", {(dir / "m1").string(), (dir / "m2").string()});
  for (auto& r : out) {
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r.value(), "survived");
  }
  EXPECT_EQ(pool.get_stats().retried.load(), 2u);
  EXPECT_GE(pool.get_stats().workers_replaced.load(), 2u);
  fs::remove_all(dir);
}

TEST(ProcessPool, CallThatAlwaysCrashesFailsByNameAndOthersSucceed) {
  process_pool pool({.workers = 2});
  std::vector<task_call> calls;
  for (int i = 0; i < 50; ++i) calls.push_back({"test.echo", std::to_string(i)});
  calls.insert(calls.begin() + 25, task_call{"test.crash", ""});
  std::vector<std::optional<result<bytes>>> got(calls.size());
  std::mutex m;
  std::condition_variable cv;
  std::size_t n = 0;
  pool.dispatch(calls, [&](std::size_t i, result<bytes> r) {
    std::scoped_lock lock(m);
    got[i].emplace(std::move(r));
    ++n;
    cv.notify_all();
  });
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 60s, [&] { return n == calls.size(); })) << "map hung";
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (i == 25) {
      ASSERT_FALSE(got[i]->ok());
      const std::string msg = got[i]->error().message();
      EXPECT_NE(msg.find("task 'test.crash' failed"), std::string::npos) << msg;
      EXPECT_NE(msg.find("worker process"), std::string::npos) << msg;
      EXPECT_NE(msg.find("killed by signal 11"), std::string::npos) << msg;
      EXPECT_NE(msg.find("ran 2 times"), std::string::npos) << msg;
    } else {
      ASSERT_TRUE(got[i]->ok()) << i << ": " << got[i]->error().to_string();
      EXPECT_EQ(got[i]->value(), calls[i].payload);
    }
  }
  // The pool still works afterwards.
  EXPECT_EQ(pool.submit("test.echo", "after").get(), "after");
}

TEST(ProcessPool, KilledWorkerIsReplacedAndItsCallRerun) {
  process_pool pool({.workers = 1});
  auto fut = pool.submit("test.sleep_ms", "400");
  std::vector<int> pids;
  for (int i = 0; i < 200 && pids.empty(); ++i) {
    std::this_thread::sleep_for(10ms);
    pids = pool.get_worker_pids();
  }
  ASSERT_EQ(pids.size(), 1u);
  std::this_thread::sleep_for(100ms);  // the call is running now
  ::kill(pids[0], SIGKILL);
  EXPECT_EQ(fut.get(), "400");  // ran again on the replacement
  auto now = pool.get_worker_pids();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0], pids[0]);
}

namespace {
std::string pid_part(const result<bytes>& r) { return r.value().substr(0, r.value().find(':')); }
std::string count_part(const result<bytes>& r) { return r.value().substr(r.value().find(':') + 1); }
}  // namespace

// Calls with an affinity run in their worker, in dispatch order, and so can
// rely on the state earlier calls left there.
TEST(ProcessPool, AffinityPinsCallsToOneWorkerInOrder) {
  process_pool pool({.workers = 2});
  std::vector<task_call> calls;
  for (int i = 0; i < 60; ++i) calls.push_back(task_call{"test.count", "", static_cast<std::size_t>(i % 2)});
  const auto out = pool.run_calls(calls);
  std::string pid_of[2];
  int last[2] = {0, 0};
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].ok()) << out[i].error().to_string();
    if (pid_of[i % 2].empty()) pid_of[i % 2] = pid_part(out[i]);
    EXPECT_EQ(pid_part(out[i]), pid_of[i % 2]) << "call " << i << " left its worker";
    EXPECT_EQ(std::stoi(count_part(out[i])), last[i % 2] + 1) << "call " << i << " ran out of order";
    last[i % 2] = std::stoi(count_part(out[i]));
  }
  EXPECT_NE(pid_of[0], pid_of[1]);
}

// A dead worker's pinned calls wait for its replacement in the same slot; the
// other worker never takes them.
TEST(ProcessPool, PinnedCallsOutliveTheirWorker) {
  const auto dir = temp_dir();
  process_pool pool({.workers = 2});
  const auto before = pool.run_calls({task_call{"test.count", "", 0}, task_call{"test.count", "", 1}});
  ASSERT_TRUE(before[0].ok() && before[1].ok());
  const auto after = pool.run_calls({task_call{"test.crash_once", (dir / "marker").string(), 3},  // slot 1
                                     task_call{"test.count", "", 1}, task_call{"test.count", "", 0}});
  ASSERT_TRUE(after[0].ok()) << after[0].error().to_string();
  EXPECT_EQ(after[0].value(), "survived");
  ASSERT_TRUE(after[1].ok() && after[2].ok());
  EXPECT_NE(pid_part(after[1]), pid_part(before[1]));  // slot 1 has a new worker...
  EXPECT_NE(pid_part(after[1]), pid_part(before[0]));  // ...not slot 0's
  EXPECT_EQ(count_part(after[1]), "1");                // which starts afresh
  EXPECT_EQ(pid_part(after[2]), pid_part(before[0]));  // slot 0 kept its worker and its state
  EXPECT_EQ(count_part(after[2]), "2");
}

TEST(ProcessPool, TimeoutKillsAHungCall) {
  process_pool_options o;
  o.workers = 1;
  o.task_timeout = 100ms;
  process_pool pool(o);
  auto r = pool.map("test.sleep_ms", {"5000", "1"});
  ASSERT_FALSE(r[0].ok());
  EXPECT_NE(r[0].error().message().find("timeout"), std::string::npos) << r[0].error().message();
  ASSERT_TRUE(r[1].ok()) << r[1].error().to_string();
}

// A call with a stop runs alone in its worker; stopping it ends that worker
// with the signal given and completes the call as cancelled, never run again,
// while a call beside it finishes; a queued call that is stopped never runs.
TEST(ProcessPool, AStoppedCallEndsItsWorkerAndNothingElse) {
  process_pool pool({.workers = 2});
  pool.wait_ready();
  auto running = std::make_shared<call_stop>(), queued = std::make_shared<call_stop>();
  std::vector<task_call> calls;
  calls.push_back(task_call{"test.sleep_ms", "30000", no_affinity, running});
  calls.push_back(task_call{"test.sleep_ms", "300", no_affinity, nullptr});
  calls.push_back(task_call{"test.sleep_ms", "30000", no_affinity, queued});
  queued->signal = SIGKILL;  // before it starts: it never does
  completion_stream stream(calls.size());
  const auto t0 = std::chrono::steady_clock::now();
  pool.dispatch(std::move(calls), stream.sink());
  std::this_thread::sleep_for(200ms);  // both workers run a call
  const auto pids = pool.get_worker_pids();
  running->signal = SIGTERM;
  std::vector<std::optional<result<bytes>>> got(3);
  while (auto c = stream.next()) got[c->index] = std::move(c->value);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);  // not the 30 s of the stopped call
  ASSERT_FALSE(got[0]->ok());
  EXPECT_EQ(got[0]->error().code(), status_code::cancelled) << got[0]->error().message();
  ASSERT_TRUE(got[1]->ok()) << got[1]->error().to_string();
  ASSERT_FALSE(got[2]->ok());
  EXPECT_EQ(got[2]->error().code(), status_code::cancelled) << got[2]->error().message();
  // One worker was replaced, and the pool runs calls as before.
  auto after = pool.map("test.echo", {"x"});
  ASSERT_TRUE(after[0].ok());
  const auto now_pids = pool.get_worker_pids();
  EXPECT_EQ(now_pids.size(), 2u);
  std::size_t kept = 0;
  for (int p : pids) kept += std::count(now_pids.begin(), now_pids.end(), p);
  EXPECT_EQ(kept, 1u);
}

TEST(ProcessPool, BatchesAMillionTinyCalls) {
  process_pool pool({.workers = 2});
  std::vector<bytes> in(1'000'000);
  for (std::uint64_t i = 0; i < in.size(); ++i) in[i] = wire_writer().put<std::uint64_t>(i).take();
  const auto t0 = std::chrono::steady_clock::now();
  auto out = pool.map("test.square", std::move(in));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(out.size(), 1'000'000u);
  for (std::uint64_t i = 0; i < out.size(); i += 9973)
    EXPECT_EQ(wire_reader(out[i].value()).get<std::uint64_t>(), i * i);
  // Not a timing test: a generous bound that only per-call round trips would break.
  EXPECT_LT(elapsed, 60s);
  std::printf("1M tiny calls on 2 processes: %.2f us per call\n",
              std::chrono::duration<double, std::micro>(elapsed).count() / 1e6);
}

TEST(ProcessPool, MissingExecutableFailsCallsInsteadOfHanging) {
  process_pool_options o;
  o.workers = 1;
  o.executable = "/nonexistent/scalekit";
  process_pool pool(o);
  auto r = pool.map("test.echo", {"x"});
  ASSERT_FALSE(r[0].ok());
  EXPECT_NE(r[0].error().message().find("cannot start worker process"), std::string::npos) << r[0].error().message();
}

TEST(ProcessPool, TerminateCancelsQueuedCalls) {
  process_pool pool({.workers = 1});
  std::vector<bytes> in(20, "50");
  auto stream = pool.as_completed("test.sleep_ms", in);
  std::this_thread::sleep_for(80ms);
  pool.terminate();
  std::size_t ok = 0, cancelled = 0;
  while (auto c = stream.next()) (c->value.ok() ? ok : cancelled)++;
  EXPECT_EQ(ok + cancelled, 20u);
  EXPECT_GE(cancelled, 10u);
  EXPECT_TRUE(pool.get_worker_pids().empty());
}

// cancel() ends the workers that run calls: each removes the temporary file
// its task was writing, its call completes as cancelled (never run again), and
// nothing is left behind.
TEST(ProcessPool, CancelEndsRunningWorkersAndTheirTemporaryFiles) {
  const std::string dir = temp_dir().string();
  process_pool pool({.workers = 2});
  auto stream = pool.as_completed("test.write_and_hang", {dir + "/a.out", dir + "/b.out", dir + "/c.out"});
  // Wait until both running calls have created their temporaries.
  auto count_files = [&] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
  };
  for (int i = 0; i < 500 && count_files() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(count_files(), 2u);
  const auto workers = pool.get_worker_pids();
  const auto t0 = std::chrono::steady_clock::now();
  pool.cancel();
  std::size_t cancelled = 0;
  while (auto c = stream.next()) {
    ASSERT_FALSE(c->value.ok());
    EXPECT_EQ(c->value.error().code(), scalekit::status_code::cancelled) << c->value.error().message();
    ++cancelled;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  EXPECT_EQ(cancelled, 3u);
  EXPECT_EQ(count_files(), 0u) << "a temporary file outlived its cancelled worker";
  pool.close();
  for (int pid : workers) EXPECT_TRUE(process_gone(pid)) << pid;
  std::filesystem::remove_all(dir);
}

// A descriptor the master opened without close-on-exec (as Asio opens its
// sockets) never reaches a worker: a worker must not keep a client's
// connection or a listening socket open.
TEST(ProcessPool, WorkersInheritNoDescriptorsButTheirSocket) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  // High numbers, no O_CLOEXEC: not to be mistaken for the worker's own.
  const int leaky[2] = {::dup2(p[0], 200), ::dup2(p[1], 201)};
  ::close(p[0]);
  ::close(p[1]);
  process_pool pool({.workers = 1});
  auto r = pool.map("test.open_fds", {""});
  ::close(leaky[0]);
  ::close(leaky[1]);
  ASSERT_TRUE(r[0].ok()) << r[0].error().message();
  std::istringstream fds(r[0].value());
  for (int fd; fds >> fd;) {
    EXPECT_NE(fd, leaky[0]) << r[0].value();
    EXPECT_NE(fd, leaky[1]) << r[0].value();
  }
}

TEST(ProcessPool, NoWorkerOutlivesThePool) {
  std::vector<int> pids;
  {
    process_pool pool({.workers = 3});
    pool.map("test.echo", {"a", "b", "c"});
    pids = pool.get_worker_pids();
  }
  ASSERT_EQ(pids.size(), 3u);
  for (int pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
}

// One Ctrl-C (SIGINT to the foreground process group) ends the program within
// a second and leaves no worker behind.
TEST(ProcessPool, CtrlCEndsWithinASecondWithNoOrphans) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = ::fork();  // the test itself is single-threaded here
  if (child == 0) {
    ::setpgid(0, 0);
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(SCALEKIT_SIGINT_HELPER, SCALEKIT_SIGINT_HELPER, nullptr);
    ::_exit(127);
  }
  ::setpgid(child, child);
  ::close(out[1]);
  FILE* f = ::fdopen(out[0], "r");
  std::vector<int> workers;
  char line[64];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::string(line) == "ready\n") break;
    workers.push_back(std::atoi(line));
  }
  ASSERT_EQ(workers.size(), 2u);
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(-child, SIGINT);
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 1s);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
  std::this_thread::sleep_for(200ms);  // let the kernel deliver PDEATHSIG and init reap
  for (int pid : workers) EXPECT_TRUE(process_gone(pid)) << "orphaned worker " << pid;
  std::fclose(f);
}
