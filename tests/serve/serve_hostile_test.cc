// `scalekit serve` against what a hostile client or a misbehaving application
// does: the real master and workers, real sockets, real signals.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "loopback.h"
#include "serve_helpers.h"

using scalekit::testing::connect_loopback;
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
bool listened_on(const std::string& port) { return !run_command("ss -Hltn 'sport = :" + port + "'").out.empty(); }

// A connection to 127.0.0.1:PORT with a small receive buffer, -1 on failure.
int connect_small(const std::string& port) { return connect_loopback(port, {.receive_buffer = 4096}); }

}  // namespace

// A worker killed in the middle of a request leaves that request's record in
// its scoreboard slot; the worker that takes the slot next must not inherit it
// (it read as stuck past --timeout, and the master replaced every successor).
TEST(ServeHostile, AWorkerKilledMidRequestDoesNotGetItsSuccessorReplaced) {
  serve_server server("-w 1 --timeout 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const int first = worker_pid(server.status(), 0);
  ASSERT_GT(first, 0) << server.log();
  std::thread slow([&] { (void)server.get("/sleep?ms=5000"); });
  ASSERT_TRUE(server.wait_until([](const json& s) { return scalekit::testing::running(s, "/sleep"); })) << server.log();
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

// An application that forks and lets the child return to the server: the
// child ends at once instead of hanging on to the worker's listening socket,
// which would keep the port taken after the server stops.
TEST(ServeHostile, AForkedChildReturningToTheServerExitsAndFreesThePort) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi hostile_apps:fork_and_return");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string answer = server.get("/");
  EXPECT_EQ(answer.substr(0, 10), "200\nchild ") << answer;
  EXPECT_TRUE(server.wait_for_log("forked returned to the server: it exits", 5s)) << server.log();
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
  server.stop();
  EXPECT_EQ(server.exit_code(), 0) << server.log();
  bool free = false;
  for (int i = 0; i < 100 && !free; ++i) {
    free = !listened_on(server.port());
    if (!free) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(free) << "port " << server.port() << " still taken:\n" << run_command("ss -ltnp").out;
}

// A worker blocks the signals its waiter thread takes, and a blocked mask is
// inherited across fork and exec: a program a WSGI app started (subprocess)
// ignored TERM, INT and HUP for good. The worker's threads now take them and
// pass them on, so such a program starts with none blocked and TERM ends it.
TEST(ServeHostile, AProgramAnAppStartsHasNoSignalBlocked) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi hostile_apps:spawn_sleeper");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string answer = server.get("/");
  ASSERT_EQ(answer.substr(0, 4), "200\n") << answer << server.log();
  const std::string child = answer.substr(4);
  const std::string blocked = run_command("grep SigBlk /proc/" + child + "/status").out;
  EXPECT_EQ(blocked, "SigBlk:\t0000000000000000\n") << "pid " << child;
  ::kill(std::stoi(child), SIGTERM);
  // Ended: gone, or a zombie until the app's Popen reaps it.
  const auto ended = [&] {
    const std::string state = run_command("awk '{print $3}' /proc/" + child + "/stat 2>/dev/null").out;
    return state.empty() || state == "Z\n";
  };
  bool done = false;
  for (int i = 0; i < 100 && !(done = ended()); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(done) << "pid " << child << " still runs after TERM";
  // The worker's own signals keep their meanings: a HUP to it is the master's to give, ignored here.
  const int pid = worker_pid(server.status(), 0);
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGHUP);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(server.get("/healthz"), "200\nok\n") << server.log();
  EXPECT_EQ(worker_pid(server.status(), 0), pid) << server.log();
  server.stop();
  EXPECT_EQ(server.exit_code(), 0) << server.log();
}

// A worker that died mid-request was logged as "killed by signal 9 [crash]"
// alone: which request took it down went unsaid (a timeout names it). And TTIN
// and TTOU changed the workers without a word.
TEST(ServeHostile, ACrashNamesItsRequestAndTtinTtouSayWhatTheyDid) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi hostile_apps:die_mid_request");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  (void)server.get("/boom");
  ASSERT_TRUE(server.wait_for_log("its client gets no answer", 5s)) << server.log();
  EXPECT_NE(server.log().find("worker 0 was running request "), std::string::npos) << server.log();
  EXPECT_NE(server.log().find(" GET /boom (for "), std::string::npos) << server.log();
  ::kill(server.pid(), SIGTTIN);
  EXPECT_TRUE(server.wait_for_log("TTIN: 2 workers wanted (were 1)", 5s)) << server.log();
  ::kill(server.pid(), SIGTTOU);
  EXPECT_TRUE(server.wait_for_log("TTOU: 1 worker wanted (were 2)", 5s)) << server.log();
  ::kill(server.pid(), SIGTTOU);
  EXPECT_TRUE(server.wait_for_log("TTOU: one worker is the fewest this master runs", 5s)) << server.log();
  server.stop();
  EXPECT_EQ(server.exit_code(), 0) << server.log();
}

// NaN passes CLI11's ranges: `--grace nan` stopped with "grace -9.22337e+15 s".
TEST(ServeHostile, ANanSecondsFlagIsBadUsage) {
  for (const std::string flag : {"--timeout", "--grace", "--max-lifetime", "--broker-timeout"}) {
    const auto r = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 " + flag + " nan");
    EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.err;
    EXPECT_NE(r.err.find(flag + ": 'nan' is not a number"), std::string::npos) << r.err;
  }
}

// A mount that is no URL prefix is bad usage before anything starts, not a
// worker that fails at start and a server that stops with status 1.
TEST(ServeHostile, AMountThatIsNoUrlPrefixIsBadUsage) {
  const auto r = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 --pythonpath " SCALEKIT_SEEDS_DIR
                                                 "/../wsgi --wsgi hostile_apps:fork_and_return --mount relative");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--mount 'relative'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
}

// A client that reads a big streamed response slowly held the application
// thread in the pipe past --timeout: the master took the request for stuck and
// replaced the worker, cutting every other connection of it. The thread now
// stops waiting at the deadline, and the worker stays.
TEST(ServeHostile, ASlowReaderOfABigStreamDoesNotGetTheWorkerReplaced) {
  serve_server server("-w 1 --timeout 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi hostile_apps:big_stream");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const int pid = worker_pid(server.status(), 0);
  const int fd = connect_small(server.port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char head[16] = {};
  ASSERT_EQ(::recv(fd, head, 12, MSG_WAITALL), 12);  // the head is out; the client then reads nothing
  EXPECT_EQ(std::string(head, 12), "HTTP/1.1 200");
  // The master replaces a worker whose request has run a second past --timeout.
  std::this_thread::sleep_for(3s);
  const json s = server.status();
  ::close(fd);
  EXPECT_EQ(worker_pid(s, 0), pid) << s.dump() << server.log();
  EXPECT_EQ(s["restarts"]["timeout"], 0) << s.dump() << server.log();
  EXPECT_FALSE(scalekit::testing::running(s, "/big")) << s.dump();
  EXPECT_EQ(server.log().find("replacing the worker"), std::string::npos) << server.log();
}

// Under `ulimit -n 128` the master could not move its scoreboard above the
// workers' descriptors (to 128 and up) and stopped after saying it listened.
TEST(ServeHostile, StartsAndServesUnderALowDescriptorLimit) {
  scalekit::testing::server_process server("prlimit --nofile=100 " + scalekit::testing::bin, "serve -w 1",
                                           "serve-ulimit");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const auto r =
      run_command("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py get " + server.port() + " /healthz");
  EXPECT_EQ(r.out, "200\nok\n") << r.err << server.log();
}
