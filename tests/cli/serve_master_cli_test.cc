// Integration tests of serve's master: recycling's floor and jitter, the ids
// in its log, sd_notify during reloads, signals it owns. The real master and
// workers, real clients (tests/fixtures/serve_client.py), real signals.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "prometheus_text.h"
#include "serve_helpers.h"

using scalekit::testing::background_process;
using scalekit::testing::count_of;
using scalekit::testing::prometheus_text;
using scalekit::testing::serve_server;
using json = nlohmann::json;
using namespace std::chrono_literals;

// --max-rss below what a fresh worker holds: the master says so once, and
// recycles with a floor and a backoff instead of restarting without pause
// (it gave 133 restarts in 3 s); the server keeps answering throughout.
TEST(CliServeMaster, MaxRssBelowAFreshWorkerBacksOff) {
  serve_server server("-w 1 --max-rss 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(server.get("/healthz"), "200\nok\n") << server.log();
    std::this_thread::sleep_for(250ms);
  }
  const json s = server.status();
  const int restarts = s["restarts"]["max_rss"].get<int>();
  EXPECT_GE(restarts, 1) << server.log();
  EXPECT_LE(restarts, 4) << server.log();
  EXPECT_EQ(count_of(server.log(), "is below a fresh worker's size"), 1u) << server.log();
}

// --max-lifetime-jitter gives each worker a lifetime of its own, so they do
// not recycle in lockstep; and with three workers recycling, never more than
// one successor starts at a time (the old one leaves once it accepts).
TEST(CliServeMaster, LifetimesAreJitteredAndRecyclesNeverOverlap) {
  serve_server server("-w 3 --max-lifetime 1 --max-lifetime-jitter 3 --grace 2");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("3 workers ready")) << server.log();
  std::size_t most_starting = 0, most_serving = 0, polls = 0;
  const auto end = std::chrono::steady_clock::now() + 7s;
  while (std::chrono::steady_clock::now() < end) {
    const json s = server.status();
    if (!s.contains("workers")) continue;
    ++polls;
    std::size_t starting = 0, serving = 0;
    for (const auto& w : s["workers"]) {
      starting += w["state"] == "starting";
      serving += w["state"] != "stopping";
    }
    most_starting = std::max(most_starting, starting);
    most_serving = std::max(most_serving, serving);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GT(polls, 10u);  // each read is a Python client: 150-350 ms a read beside another test
  EXPECT_LE(most_starting, 1u) << server.log();
  EXPECT_LE(most_serving, 4u) << server.log();  // the three, plus one successor
  // Each recycle line names the worker's own limit: 1 s plus up to 3 s, drawn per worker.
  const std::string log = server.log();
  std::set<std::string> limits;
  const std::string mark = ": max_lifetime (its limit ";
  for (auto at = log.find(mark); at != std::string::npos; at = log.find(mark, at + 1)) {
    const std::string limit = log.substr(at + mark.size(), log.find(' ', at + mark.size()) - at - mark.size());
    EXPECT_GE(std::stod(limit), 1.0) << log;
    EXPECT_LE(std::stod(limit), 4.0) << log;
    limits.insert(limit);
  }
  EXPECT_GE(server.status()["restarts"]["max_lifetime"].get<int>(), 2) << log;
  EXPECT_GE(limits.size(), 2u) << log;
}

// A request past --timeout: the worker's 504 line, the master's "has run"
// line and /status name it by the same id.
TEST(CliServeMaster, ATimedOutRequestHasOneIdInBothLogLinesAndStatus) {
  serve_server server("-w 1 --timeout 0.5");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  background_process slow(server.client_command("get " + server.port() + " /sleep?ms=4000"), "cli-serve-slow");
  std::string shown;
  ASSERT_TRUE(server.wait_until(
      [&](const json& s) {
        for (const auto& w : s.value("workers", json::array()))
          for (const auto& r : w["running"])
            if (r["path"] == "/sleep") shown = r["id"].get<std::string>();
        return !shown.empty();
      },
      5s))
      << server.log();
  ASSERT_TRUE(server.wait_for_log("has run", 8s)) << server.log();
  ASSERT_TRUE(slow.wait_exit(10s));
  EXPECT_EQ(slow.out().substr(0, 4), "504\n");
  const std::string log = server.log();
  std::smatch worker_line, master_line;
  ASSERT_TRUE(std::regex_search(log, worker_line, std::regex("request (\\S+) GET /sleep\\S*: 504 after"))) << log;
  ASSERT_TRUE(std::regex_search(log, master_line, std::regex("request (\\S+) GET /sleep\\S* has run"))) << log;
  EXPECT_EQ(worker_line[1], master_line[1]) << log;
  EXPECT_EQ(worker_line[1], shown) << log;
  EXPECT_TRUE(std::regex_match(shown, std::regex("0-[1-9][0-9]*"))) << shown;  // slot 0's N-th request
}

// systemd with three workers: HUP sends RELOADING=1, then READY=1 once, when
// the last worker is replaced (not when the first successor accepts).
TEST(CliServeMaster, SystemdHearsReadyOnceTheWholeReloadIsDone) {
  const auto r = scalekit::testing::run_command(
      "timeout 60 /usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../systemd_like.py " + scalekit::testing::bin + " 3");
  EXPECT_EQ(r.out, "ready\nGET /healthz -> 200\nreloading, ready\nevery worker new\nno other READY\nstopping, exit 0\n")
      << r.err;
}

namespace {

// serve started as a non-interactive shell starts a background job: INT and QUIT ignored.
// Poll PORT's /status until a request for `path` runs (true), or 5 s pass.
bool wait_until_running(const std::string& port, const std::string& path) {
  const std::string status = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py status " + port;
  for (int i = 0; i < 100; ++i) {
    const auto r = scalekit::testing::run_command(status);
    if (!r.out.empty() && scalekit::testing::running(json::parse(r.out), path)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string ignoring_int_and_quit() {
  return "/bin/sh -c 'trap \"\" INT QUIT; exec \"$0\" serve \"$@\"' " + scalekit::testing::bin;
}

}  // namespace

// The master owns its signals whatever it inherited: with INT and QUIT
// ignored by whoever started it, INT still stops it gracefully...
TEST(CliServeMaster, IntStopsGracefullyThoughIgnoredAtStart) {
  scalekit::testing::server_process server(ignoring_int_and_quit(), "-w 1 --grace 10", "cli-serve");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string client = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py ";
  background_process slow(client + "get " + server.port() + " /sleep?ms=1500", "cli-serve-slow");
  ASSERT_TRUE(wait_until_running(server.port(), "/sleep")) << server.log();
  ASSERT_EQ(::kill(server.pid(), SIGINT), 0);
  ASSERT_TRUE(server.wait_for_log("stopping: workers finish their requests", 5s)) << server.log();
  ASSERT_TRUE(slow.wait_exit(10s));
  EXPECT_EQ(slow.out(), "200\nslept 1500 ms\n");
  EXPECT_TRUE(server.wait_exit(10s)) << server.log();
}

// ... and QUIT stops it at once, with a request still running.
TEST(CliServeMaster, QuitStopsAtOnceThoughIgnoredAtStart) {
  scalekit::testing::server_process server(ignoring_int_and_quit(), "-w 1 --grace 60", "cli-serve");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string client = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py ";
  background_process slow(client + "get " + server.port() + " /sleep?ms=30000", "cli-serve-slow");
  ASSERT_TRUE(wait_until_running(server.port(), "/sleep")) << server.log();
  ASSERT_EQ(::kill(server.pid(), SIGQUIT), 0);
  EXPECT_TRUE(server.wait_exit(5s)) << server.log();
  EXPECT_NE(server.log().find("QUIT: stopping every worker now"), std::string::npos) << server.log();
}

// Ctrl-C stops gracefully, a second one at once (the master's own handling:
// it used to be the command line's).
TEST(CliServeMaster, ASecondInterruptStopsAtOnce) {
  serve_server server("-w 1 --grace 60");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string client = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py ";
  background_process slow(client + "get " + server.port() + " /sleep?ms=30000", "cli-serve-slow");
  ASSERT_TRUE(wait_until_running(server.port(), "/sleep")) << server.log();
  ASSERT_EQ(::kill(server.pid(), SIGINT), 0);
  ASSERT_TRUE(server.wait_for_log("stopping: workers finish their requests", 5s)) << server.log();
  ASSERT_EQ(::kill(server.pid(), SIGINT), 0);
  EXPECT_TRUE(server.wait_exit(5s)) << server.log();
  EXPECT_NE(server.log().find("QUIT: stopping every worker now"), std::string::npos) << server.log();
}

// /metrics is valid Prometheus text; it counts ready workers busy (a request on
// an application thread) and idle, and the GIL wait by WSGI app.
TEST(CliServeMaster, MetricsCountBusyWorkersAndTheGilWaitByApp) {
  serve_server server("-w 2 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi serve_apps:sleepy --mount /sleepy");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  background_process slow(server.client_command("get " + server.port() + " /sleepy/?s=3"), "cli-serve-slow");
  ASSERT_TRUE(server.wait_until([](const json& s) { return scalekit::testing::running(s, "/sleepy/"); }, 5s))
      << server.log();
  const prometheus_text during(server.get("/metrics").substr(4));  // after "200\n"
  ASSERT_EQ(during.error, "");
  EXPECT_EQ(during.samples.at("scalekit_serve_ready_workers{activity=\"busy\"}"), 1);
  EXPECT_EQ(during.samples.at("scalekit_serve_ready_workers{activity=\"idle\"}"), 1);
  ASSERT_TRUE(slow.wait_exit(10s));
  EXPECT_EQ(slow.out(), "200\nslept\n");
  const prometheus_text after(server.get("/metrics").substr(4));
  ASSERT_EQ(after.error, "");
  EXPECT_EQ(after.samples.at("scalekit_serve_ready_workers{activity=\"busy\"}"), 0);
  EXPECT_EQ(after.samples.at("scalekit_serve_ready_workers{activity=\"idle\"}"), 2);
  const auto gil = after.starting("scalekit_serve_gil_wait_seconds_total{");
  ASSERT_EQ(gil.size(), 2u);  // one per worker, for the one app
  for (const auto& [sample, seconds] : gil) {
    EXPECT_NE(sample.find(",app=\"serve_apps:sleepy\",mount=\"/sleepy\"}"), std::string::npos) << sample;
    EXPECT_GE(seconds, 0);
  }
}
