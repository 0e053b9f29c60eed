// `scalekit serve` against what a hostile client or a misbehaving application
// does: the real master and workers, real sockets, real signals.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "serve_helpers.h"

using scalekit::testing::json;
using scalekit::testing::run_command;
using scalekit::testing::serve_server;
using namespace std::chrono_literals;

namespace {

// The pid of the worker in /status's slot `slot`, 0 when there is none.
int worker_pid(const json& s, int slot) {
  for (const auto& w : s.value("workers", json::array()))
    if (w["slot"] == slot && w["state"] == "ready") return w["pid"].get<int>();
  return 0;
}

// Whether some process still listens on 127.0.0.1:PORT.
bool listened_on(const std::string& port) {
  return !run_command("ss -Hltn 'sport = :" + port + "'").out.empty();
}

}  // namespace

// A worker killed in the middle of a request leaves that request's record in
// its scoreboard slot; the worker that takes the slot next must not inherit it
// (it read as stuck past --timeout, and the master replaced every successor).
TEST(ServeHostile, AWorkerKilledMidRequestDoesNotGetItsSuccessorReplaced) {
  serve_server server("-w 1 --timeout 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  const int first = worker_pid(server.status(), 0);
  ASSERT_GT(first, 0) << server.log();
  std::thread slow([&] { (void)server.get("/sleep?ms=5000"); });
  ASSERT_TRUE(server.wait_until([](const json& s) { return scalekit::testing::running(s, "/sleep"); }))
      << server.log();
  ::kill(first, SIGKILL);
  slow.join();
  int second = 0;
  ASSERT_TRUE(server.wait_until(
      [&](const json& s) {
        second = worker_pid(s, 0);
        return second > 0 && second != first;
      },
      10s))
      << server.log();
  // Past the timeout and its second of slack, the new worker is still the one serving.
  std::this_thread::sleep_for(2500ms);
  const json s = server.status();
  EXPECT_EQ(worker_pid(s, 0), second) << server.log();
  EXPECT_EQ(s["restarts"]["timeout"], 0) << s.dump() << server.log();
  EXPECT_EQ(server.log().find("past the timeout"), std::string::npos) << server.log();
}
