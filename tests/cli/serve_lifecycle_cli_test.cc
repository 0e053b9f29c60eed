// Integration tests of `scalekit serve`'s behaviour at its edges: TERM with
// idle keep-alive connections, a worker killed under load, the 503 shed, the
// latency histogram. The real master and workers, real clients.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"
#include "loopback.h"
#include "prometheus_text.h"
#include "serve_helpers.h"

using scalekit::testing::background_process;
using scalekit::testing::prometheus_text;
using scalekit::testing::ready_workers;
using scalekit::testing::running;
using scalekit::testing::serve_server;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A keep-alive connection to 127.0.0.1:port that has had one whole answer to
// GET /healthz, and is idle now; -1 when that failed.
int idle_keep_alive_connection(const std::string& port) {
  const int fd = scalekit::testing::connect_loopback(port, {.receive_timeout = std::chrono::seconds(10)});
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  if (fd < 0) return -1;
  if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string got;
  char buf[1024];
  while (got.find("\r\n\r\nok\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  return fd;
}

// What the end of an idle connection looks like: "eof" (closed), "reset", "data: ..." or "timeout".
std::string how_it_ends(int fd) {
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n == 0) return "eof";
  if (n > 0) return "data: " + std::string(buf, static_cast<std::size_t>(n));
  if (errno == ECONNRESET) return "reset";
  return errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : std::string("error: ") + std::strerror(errno);
}

// The failures a serve_client.py load run counts: "ok N failed {...}" summed.
int failures(const std::string& summary) {
  int total = 0;
  static const std::regex count(R"(": ([0-9]+))");
  for (std::sregex_iterator it(summary.begin(), summary.end(), count), end; it != end; ++it)
    total += std::stoi((*it)[1]);
  return total;
}

}  // namespace

// TERM with idle keep-alive connections open: the master stops well within
// --grace (the idle connections are not waited for), and each of them is
// closed with a FIN after its whole answer, not reset.
TEST(CliServeLifecycle, TermClosesIdleKeepAliveConnectionsAndExitsWithinGrace) {
  serve_server server("-w 2 --grace 30");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  std::vector<int> fds;
  for (int i = 0; i < 6; ++i) fds.push_back(idle_keep_alive_connection(server.port()));
  for (const int fd : fds) ASSERT_GE(fd, 0);
  ASSERT_TRUE(server.wait_until([](const json& s) {
    int open = 0;
    for (const auto& w : s["workers"]) open += w["connections"].get<int>();
    return open >= 6;
  }));
  ::kill(server.pid(), SIGTERM);
  EXPECT_TRUE(server.wait_exit(10s)) << server.log();  // promptness: far below --grace 30
  EXPECT_EQ(server.exit_code(), 0) << server.log();
  for (const int fd : fds) {
    EXPECT_EQ(how_it_ends(fd), "eof");
    ::close(fd);
  }
}

// SIGKILL of a worker under load: only the requests on its connections fail
// (one at most each), the master replaces it and counts one crash.
TEST(CliServeLifecycle, AWorkerKilledUnderLoadCostsOnlyItsOwnRequests) {
  serve_server server("-w 2");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const int connections = 8;
  background_process load(server.client_command("load " + server.port() + " 2.5 " + std::to_string(connections) +
                                                " /primes?n=1000003"),
                          "cli-serve-load");
  ASSERT_TRUE(server.wait_until([](const json& s) {
    return s["workers"][0]["requests"].get<int>() > 20 && s["workers"][1]["requests"].get<int>() > 20;
  })) << server.status().dump();
  const json before = server.status();
  const int victim = before["workers"][0]["pid"].get<int>();
  const int held = before["workers"][0]["connections"].get<int>();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_TRUE(load.wait_exit(20s));
  const std::string result = load.out();
  ASSERT_EQ(result.rfind("ok ", 0), 0u) << result;
  EXPECT_GT(std::stoi(result.substr(3)), 100) << result;
  EXPECT_LE(failures(result), std::max(held, 1) + 1) << result << before.dump();  // its connections' requests
  EXPECT_LE(failures(result), connections) << result;
  EXPECT_TRUE(server.wait_until([](const json& s) { return ready_workers(s) == 2 && s["restarts"]["crash"] == 1; }))
      << server.status().dump() << server.log();
}

// Past --queue, a request is answered 503 with Retry-After at once, and
// /metrics counts it as shed. Without --queue-wait (off by default) the queued
// one waits for the slow one however long it takes.
TEST(CliServeLifecycle, TheShed503CarriesRetryAfterAndIsCounted) {
  serve_server server("-w 1 --threads 1 --queue 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  background_process first(server.client_command("get " + server.port() + " /sleep?ms=3000"), "cli-serve-slow");
  ASSERT_TRUE(server.wait_until([](const json& s) { return running(s, "/sleep"); }));
  background_process second(server.client_command("get " + server.port() + " /sleep?ms=10"), "cli-serve-slow");
  ASSERT_TRUE(server.wait_until([](const json& s) { return s["workers"][0]["queued"] == 1; }))
      << server.status().dump();
  const auto shed = scalekit::testing::run_command(server.client_command("headers " + server.port() + " /sleep?ms=10"));
  EXPECT_EQ(shed.out.substr(0, 4), "503\n") << shed.out;
  EXPECT_NE(shed.out.find("\nRetry-After: 1\n"), std::string::npos) << shed.out;
  const prometheus_text metrics(server.get("/metrics").substr(4));
  ASSERT_EQ(metrics.error, "");
  EXPECT_EQ(metrics.samples.at("scalekit_serve_shed_total{worker=\"0\"}"), 1);
  ASSERT_TRUE(first.wait_exit(10s));
  ASSERT_TRUE(second.wait_exit(10s));
  EXPECT_EQ(first.out(), "200\nslept 3000 ms\n");
  EXPECT_EQ(second.out(), "200\nslept 10 ms\n");
}

// A request that waits past --queue-wait for a thread is answered 503 with
// Retry-After (with --degrade, a tile comes coarse) instead of being run
// seconds late behind a slow one, and /metrics counts it. The queue's count
// alone let an overloaded --degrade worker's p99 reach 2.2 s.
TEST(CliServeLifecycle, ARequestWaitingPastTheQueueWaitIsShedNotRunLate) {
  serve_server server("-w 1 --threads 1 --queue 8 --queue-wait 0.5 --degrade");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  background_process slow(server.client_command("get " + server.port() + " /sleep?ms=4000"), "cli-serve-slow");
  ASSERT_TRUE(server.wait_until([](const json& s) { return running(s, "/sleep"); }));
  const auto late = scalekit::testing::run_command(server.client_command("headers " + server.port() + " /sleep?ms=10"));
  EXPECT_EQ(late.out.substr(0, 4), "503\n") << late.out;
  EXPECT_NE(late.out.find("\nRetry-After: 1\n"), std::string::npos) << late.out;
  const auto tile = scalekit::testing::run_command(
      server.client_command("headers " + server.port() + " '/mandelbrot.png?w=96&h=64&n=1000'"));
  EXPECT_EQ(tile.out.substr(0, 4), "200\n") << tile.out;
  EXPECT_NE(tile.out.find("\nX-Degraded: coarse\n"), std::string::npos) << tile.out;
  const prometheus_text metrics(server.get("/metrics").substr(4));
  ASSERT_EQ(metrics.error, "");
  EXPECT_EQ(metrics.samples.at("scalekit_serve_shed_waited_total{worker=\"0\"}"), 2);
  EXPECT_EQ(metrics.samples.at("scalekit_serve_shed_total{worker=\"0\"}"), 1);
  EXPECT_EQ(metrics.samples.at("scalekit_serve_degraded_total{worker=\"0\"}"), 1);
  ASSERT_TRUE(slow.wait_exit(10s));
  EXPECT_EQ(slow.out(), "200\nslept 4000 ms\n");
}

// Shedding by time under load: each request's timer looks at it again and
// again while answers arrive, and a look queued just before the answer found
// the timer already gone with its request (the worker crashed under wrk: a
// race, so this load makes it likely rather than certain). Every answer is a
// 200 or a 503, and the worker stays.
TEST(CliServeLifecycle, ShedRequestsUnderLoadLeaveTheWorkerServing) {
  serve_server server("-w 1 --threads 2 --queue 64 --queue-wait 0.05");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const auto r = scalekit::testing::run_command(server.client_command("load " + server.port() + " 4 24 /sleep?ms=20"));
  ASSERT_EQ(r.out.rfind("ok ", 0), 0U) << r.out;
  const json failed = json::parse(r.out.substr(r.out.find('{')));
  for (const auto& [what, n] : failed.items()) EXPECT_EQ(what, "503") << r.out << server.log();
  const json s = server.status();
  EXPECT_EQ(s["restarts"]["crash"], 0) << s.dump() << server.log();
  EXPECT_GT(s["workers"][0]["shed_waited"].get<int>(), 0) << s.dump();
}

// --queue-wait must end before --timeout does: a request waiting that long is answered 504, never shed.
TEST(CliServeLifecycle, TheQueueWaitStaysUnderTheTimeout) {
  const auto refused = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 --timeout 2 --queue-wait 2");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("--queue-wait 2 s is not under --timeout 2 s"), std::string::npos) << refused.err;
}

// The latency histogram: its buckets are cumulative (never falling, +Inf
// last), and its _count is the requests the worker answered.
TEST(CliServeLifecycle, TheLatencyHistogramIsCumulativeAndCountsEveryRequest) {
  serve_server server("-w 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(server.get("/primes?n=" + std::to_string(1000 + i)).substr(0, 4), "200\n");
  const prometheus_text metrics(server.get("/metrics").substr(4));
  ASSERT_EQ(metrics.error, "");
  const std::string bucket = "scalekit_serve_request_duration_seconds_bucket{worker=\"0\",le=\"";
  double last = 0;
  std::string last_le;
  int buckets = 0;
  for (const auto& [sample, value] : metrics.in_order) {
    if (sample.rfind(bucket, 0) != 0) continue;
    ++buckets;
    EXPECT_GE(value, last) << sample;
    last = value;
    last_le = sample.substr(bucket.size());
  }
  EXPECT_GT(buckets, 10);
  EXPECT_EQ(last_le, "+Inf\"}");
  const double count = metrics.samples.at("scalekit_serve_request_duration_seconds_count{worker=\"0\"}");
  EXPECT_EQ(count, last);
  double answered = 0;
  for (const auto& [sample, value] : metrics.starting("scalekit_serve_requests_total{worker=\"0\",")) answered += value;
  EXPECT_EQ(count, answered);
  EXPECT_GE(count, 20);  // the 20, and the /status polls before them
  EXPECT_GT(metrics.samples.at("scalekit_serve_request_duration_seconds_sum{worker=\"0\"}"), 0);
}
