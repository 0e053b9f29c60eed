#include "scalekit/core/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The helper program, run in a child with its stdout on a pipe.
struct helper {
  pid_t pid = -1;
  FILE* out = nullptr;
  fs::path dir;

  helper(const char* mode, bool ignore_hup = false) {
    dir = fs::temp_directory_path() / ("scalekit-sig-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    int p[2];
    if (::pipe(p) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(p[1], 1);
      ::close(p[0]);
      if (ignore_hup) ::signal(SIGHUP, SIG_IGN);  // as nohup starts a program
      ::execl(SCALEKIT_STOP_SIGNALS_HELPER, SCALEKIT_STOP_SIGNALS_HELPER, mode, dir.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(p[1]);
    out = ::fdopen(p[0], "r");
  }
  ~helper() {
    if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out != nullptr) std::fclose(out);
    fs::remove_all(dir);
  }
  std::string line() {
    char buf[64];
    return std::fgets(buf, sizeof buf, out) != nullptr ? std::string(buf) : std::string();
  }
  // The wait status, or -1 when the child has not ended within `limit`.
  int wait_for(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    int st = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return st;
      }
      std::this_thread::sleep_for(5ms);
    }
    return -1;
  }
  std::size_t files_left() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
  }
};

}  // namespace

class StopSignals : public ::testing::TestWithParam<int> {};

// The first signal is a stop request: the program winds down, its unfinished
// output is gone, and the shell sees it end by that signal (status 128 + sig).
TEST_P(StopSignals, FirstSignalStopsTheJobAndTheStatusIsTheSignals) {
  helper h("graceful");
  ASSERT_EQ(h.line(), "ready\n");
  ASSERT_EQ(h.files_left(), 1u);  // the temporary of the output
  ::kill(h.pid, GetParam());
  EXPECT_EQ(h.line(), "stopped\n");
  const int st = h.wait_for(2s);
  ASSERT_NE(st, -1) << "still running after the stop request";
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == GetParam()) << st;
  EXPECT_EQ(h.files_left(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Each, StopSignals, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& p) { return std::string(sigabbrev_np(p.param)); });

// A job that does not stop cannot trap the user: the second signal ends the
// program at once, and its temporary output files go with it.
TEST(StopSignalsStuck, SecondSignalEndsAtOnceAndRemovesTemporaries) {
  helper h("stuck");
  ASSERT_EQ(h.line(), "ready\n");
  ::kill(h.pid, SIGINT);
  EXPECT_EQ(h.wait_for(300ms), -1) << "the first signal should only ask";
  ::kill(h.pid, SIGINT);
  const int st = h.wait_for(1s);
  ASSERT_NE(st, -1) << "the second signal did not end the program";
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) << st;
  EXPECT_EQ(h.files_left(), 0u);
}

// nohup's promise holds: a signal ignored at start stays ignored.
TEST(StopSignalsStuck, AnIgnoredSignalStaysIgnored) {
  helper h("graceful", /*ignore_hup=*/true);
  ASSERT_EQ(h.line(), "ready\n");
  ::kill(h.pid, SIGHUP);
  EXPECT_EQ(h.wait_for(300ms), -1);
  ::kill(h.pid, SIGTERM);
  const int st = h.wait_for(2s);
  ASSERT_NE(st, -1);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << st;
}

// Claimed signals run their handlers and stop nothing; SIGHUP claimed is not a
// stop signal any more; SIGTERM still is.
TEST(StopSignalsClaimed, ClaimedSignalsRunTheirHandlersAndStopNothing) {
  helper h("claims");
  ASSERT_EQ(h.line(), "ready\n");
  ::kill(h.pid, SIGHUP);
  EXPECT_EQ(h.line(), "hup\n");
  ::kill(h.pid, SIGUSR1);
  EXPECT_EQ(h.line(), "usr1\n");
  ::kill(h.pid, SIGHUP);
  EXPECT_EQ(h.line(), "hup\n");
  EXPECT_EQ(h.wait_for(100ms), -1) << "a claimed signal stopped the program";
  ::kill(h.pid, SIGTERM);
  EXPECT_EQ(h.line(), "stopped\n");
  const int st = h.wait_for(2s);
  ASSERT_NE(st, -1);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << st;
}

// A program that owns its signals (serve's master) gets them even when whoever
// started it ignored them: nohup's SIGHUP runs its handler, and a stop signal
// ignored at start stops it.
TEST(StopSignalsClaimed, AnOwnedSignalIgnoredAtStartRunsItsHandler) {
  helper h("owns", /*ignore_hup=*/true);
  ASSERT_EQ(h.line(), "ready\n");
  ::kill(h.pid, SIGHUP);
  EXPECT_EQ(h.line(), "hup\n");
  EXPECT_EQ(h.wait_for(100ms), -1) << "a claimed signal stopped the program";
  ::kill(h.pid, SIGTERM);
  EXPECT_EQ(h.line(), "stopped\n");
  const int st = h.wait_for(2s);
  ASSERT_NE(st, -1);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << st;
}

// on() returns only once a running handler has ended, so what the old handler
// refers to may be destroyed then (serve's master releases its handlers so).
TEST(StopSignalsClaimed, ReleasingAHandlerWaitsForItsRunningCall) {
  helper h("release");
  ASSERT_EQ(h.line(), "ready\n");
  ::kill(h.pid, SIGUSR1);
  EXPECT_EQ(h.line(), "released after the handler\n");
  const int st = h.wait_for(5s);
  ASSERT_NE(st, -1);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}
