// Integration tests of `scalekit serve`: the real master and worker
// processes, real clients (tests/fixtures/serve_client.py), real signals.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_helpers.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::command_result;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::server_process;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct serve_server : server_process {
  explicit serve_server(const std::string& extra = "-w 2") : server_process(bin, "serve " + extra, "cli-serve") {}
  [[nodiscard]] std::string client_command(const std::string& args) const {
    return "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py " + args;
  }
  // "STATUS\nBODY" of one request.
  [[nodiscard]] std::string get(const std::string& path, const std::string& method = "GET",
                                const std::string& body = "") const {
    return run_command(client_command("get " + port() + " '" + path + "' " + method + " '" + body + "'")).out;
  }
  [[nodiscard]] json status() const {
    const auto r = run_command(client_command("status " + port()));
    return json::parse(r.out.empty() ? "{}" : r.out);
  }
  // Poll /status until `ready` workers are ready and `pred` holds (true), or the time runs out.
  template <typename Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout = 5s) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (pred(status())) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

std::size_t ready_workers(const json& s) {
  std::size_t n = 0;
  for (const auto& w : s.value("workers", json::array()))
    if (w["state"] == "ready") ++n;
  return n;
}

// Whether a request for `path` is running (/status counts itself: not in_flight).
bool running(const json& s, const std::string& path) {
  for (const auto& w : s.value("workers", json::array()))
    for (const auto& r : w["running"])
      if (r["path"] == path) return true;
  return false;
}

std::string pids(const json& s) {
  std::string out;
  for (const auto& w : s.value("workers", json::array())) out += std::to_string(w["pid"].get<int>()) + " ";
  return out;
}

}  // namespace

TEST(CliServe, AnswersHealthStatusMetricsAndJobs) {
  serve_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
  EXPECT_EQ(server.get("/primes?n=91"), "200\n{\"n\": 91, \"prime\": false, \"factors\": [7, 13]}\n");
  const std::string png = server.get("/mandelbrot.png?w=64&h=48&n=50");
  EXPECT_EQ(png.substr(0, 8), "200\n\x89PNG") << png.substr(0, 80);
  EXPECT_EQ(server.get("/mandelbrot.png?w=lots").substr(0, 4), "400\n");
  EXPECT_EQ(server.get("/nothing/here").substr(0, 4), "404\n");
  EXPECT_EQ(server.get("/healthz", "DELETE").substr(0, 4), "405\n");
  EXPECT_EQ(server.get("/sort", "POST", "[3, -1, 20, 3]"), "200\n[-1, 3, 3, 20]\n");
  EXPECT_EQ(server.get("/sort", "POST", "[3, ").substr(0, 4), "400\n");
  EXPECT_EQ(server.get("/sort").substr(0, 4), "405\n");
  const json s = server.status();
  EXPECT_EQ(s["workers_wanted"], 2);
  EXPECT_EQ(ready_workers(s), 2u) << s.dump();
  const std::string metrics = server.get("/metrics");
  EXPECT_NE(metrics.find("scalekit_serve_requests_total{worker="), std::string::npos) << metrics;
}

// A worker killed with SIGKILL is replaced, and the restart counted, within two seconds.
TEST(CliServe, AKilledWorkerIsReplacedWithinTwoSeconds) {
  serve_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const json before = server.status();
  const int victim = before["workers"][0]["pid"].get<int>();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  EXPECT_TRUE(server.wait_until(
      [&](const json& s) {
        return ready_workers(s) == 2 && pids(s).find(std::to_string(victim) + " ") == std::string::npos &&
               s["restarts"]["crash"] == 1;
      },
      2s))
      << server.status().dump() << server.log();
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
}

// HUP replaces every worker while clients keep their keep-alive connections
// busy: no request fails, and every worker is new.
TEST(CliServe, ReloadUnderLoadLosesNoRequest) {
  serve_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const std::string old_pids = pids(server.status());
  background_process load(server.client_command("load " + server.port() + " 4 4 /primes?n=1000003"), "cli-serve-load");
  std::this_thread::sleep_for(800ms);
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(server.wait_for_log("reload done", 10s)) << server.log();
  ASSERT_TRUE(load.wait_exit(20s));
  const std::string result = load.out();
  EXPECT_EQ(result.find("failed {}"), result.size() - 10) << result;  // "ok N failed {}\n"
  EXPECT_NE(result.rfind("ok 0 ", 0), 0u) << result;
  const json s = server.status();
  EXPECT_EQ(s["restarts"]["reload"], 2) << s.dump();
  for (const auto& w : s["workers"])
    EXPECT_EQ(old_pids.find(std::to_string(w["pid"].get<int>()) + " "), std::string::npos) << old_pids << s.dump();
}

// TERM: the request under way is answered in full, then everything exits 0.
TEST(CliServe, TermFinishesTheRequestsUnderWay) {
  serve_server server("-w 1 --grace 10");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  background_process slow(server.client_command("get " + server.port() + " /sleep?ms=1500"), "cli-serve-slow");
  ASSERT_TRUE(server.wait_until([](const json& s) { return running(s, "/sleep"); }, 5s));
  ::kill(server.pid(), SIGTERM);
  ASSERT_TRUE(slow.wait_exit(10s));
  EXPECT_EQ(slow.out(), "200\nslept 1500 ms\n");
  ASSERT_TRUE(server.wait_exit(10s)) << server.log();
  EXPECT_EQ(server.exit_code(), 0) << server.log();
  EXPECT_NE(server.log().find(" requests in "), std::string::npos) << server.log();  // the summary
}

// A request past --timeout is answered 504; the master names the request and replaces the worker.
TEST(CliServe, ARequestPastTheTimeoutGets504AndItsWorkerIsReplaced) {
  serve_server server("-w 1 --timeout 0.5");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  const int first = server.status()["workers"][0]["pid"].get<int>();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server.get("/sleep?ms=4000").substr(0, 4), "504\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // answered at the timeout, not at the end
  ASSERT_TRUE(server.wait_for_log("past the timeout of 500 ms: replacing the worker", 5s)) << server.log();
  EXPECT_NE(server.log().find("GET /sleep has run"), std::string::npos) << server.log();
  EXPECT_TRUE(server.wait_until(
      [&](const json& s) {
        return s["restarts"]["timeout"] == 1 && ready_workers(s) == 1 && s["workers"][0]["pid"] != first;
      },
      8s))
      << server.status().dump() << server.log();
}

// TTIN adds a worker, TTOU takes one away.
TEST(CliServe, TtinAndTtouChangeTheNumberOfWorkers) {
  serve_server server("-w 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  ::kill(server.pid(), SIGTTIN);
  ASSERT_TRUE(server.wait_until([](const json& s) { return s["workers_wanted"] == 2; }));
  ::kill(server.pid(), SIGTTIN);  // after the first: two signals at once may arrive as one
  EXPECT_TRUE(server.wait_until([](const json& s) { return s["workers_wanted"] == 3 && ready_workers(s) == 3; }))
      << server.status().dump();
  ::kill(server.pid(), SIGTTOU);
  EXPECT_TRUE(server.wait_until([](const json& s) {
    return s["workers_wanted"] == 2 && s["workers"].size() == 2 && ready_workers(s) == 2;
  })) << server.status().dump();
}

// --max-requests recycles workers one at a time, and no client notices.
TEST(CliServe, MaxRequestsRecyclesWithoutFailures) {
  serve_server server("-w 2 --max-requests 200 --max-requests-jitter 50");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const auto r = run_command(server.client_command("load " + server.port() + " 3 4 /healthz"));
  EXPECT_NE(r.out.find("failed {}"), std::string::npos) << r.out;
  EXPECT_GE(server.status()["restarts"]["max_requests"].get<int>(), 1) << server.log();
}

// QUIT stops at once, without waiting for requests under way.
TEST(CliServe, QuitStopsAtOnce) {
  serve_server server("-w 1 --grace 60");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  background_process slow(server.client_command("get " + server.port() + " /sleep?ms=30000"), "cli-serve-slow");
  ASSERT_TRUE(server.wait_until([](const json& s) { return running(s, "/sleep"); }, 5s));
  ::kill(server.pid(), SIGQUIT);
  EXPECT_TRUE(server.wait_exit(5s)) << server.log();
}

TEST(CliServe, BadUsageIsOneLineAndStatus2) {
  for (const std::string args : {"--listen nohost", "--listen 127.0.0.1:99999", "--executor distributed", "--threads 0",
                                 "--bogus", "--mount /x"}) {
    const command_result r = run_scalekit("serve " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

// WSGI: a Flask app and the seed's simple_app mounted side by side, each
// with its SCRIPT_NAME; the seed's str body is a 500 and one log line naming
// the app, and the worker keeps serving.
TEST(CliServe, HostsWsgiAppsUnderTheirMounts) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi:" SCALEKIT_SEEDS_DIR
                      " --wsgi flask_app:app --mount /flask --wsgi simple_app:simple_app --mount /seed");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  EXPECT_EQ(server.get("/flask/"), "200\nHello from Flask");
  EXPECT_EQ(server.get("/flask/where?a=1"),
            "200\n{\"args\":{\"a\":\"1\"},\"path\":\"/where\",\"script_root\":\"/flask\",\"url\":\"http://127.0.0.1:" +
                server.port() + "/flask/where?a=1\"}\n");
  EXPECT_EQ(server.get("/flask/echo", "POST", "{\"x\": [1, 2]}"), "200\n{\"length\":13,\"received\":{\"x\":[1,2]}}\n");
  EXPECT_EQ(server.get("/seed/").substr(0, 4), "500\n");
  EXPECT_TRUE(server.wait_for_log("simple_app", 5s)) << server.log();
  EXPECT_EQ(server.get("/flask/").substr(0, 4), "200\n");  // still serving
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");          // the server's own pages stay its own
}

// An app that cannot be imported stops the server with a clear error instead
// of restarting workers forever.
TEST(CliServe, AnAppThatCannotBeLoadedStopsTheServer) {
  background_process server(bin + " serve --listen 127.0.0.1:0 -w 1 --pythonpath " SCALEKIT_SEEDS_DIR
                                  "/../wsgi --wsgi broken_import:app",
                            "cli-serve-broken");
  ASSERT_TRUE(server.wait_exit(30s)) << server.log();
  EXPECT_EQ(server.exit_code(), 1) << server.log();
  EXPECT_NE(server.log().find("broken_import"), std::string::npos) << server.log();
  EXPECT_NE(server.log().find("workers fail to start"), std::string::npos) << server.log();
}

// A Python request past --timeout: 504, and the master's log shows where the stuck thread is.
TEST(CliServe, AStuckPythonRequestIsLoggedWithItsTraceback) {
  serve_server server("-w 1 --timeout 0.5 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi serve_apps:sleepy");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  EXPECT_EQ(server.get("/?s=3").substr(0, 4), "504\n");
  ASSERT_TRUE(server.wait_for_log("in sleepy", 5s)) << server.log();
  EXPECT_NE(server.log().find("serve_apps.py\", line"), std::string::npos) << server.log();
}

// HUP reloads the application's code: new workers import it afresh.
TEST(CliServe, HupReloadsTheApplicationsCode) {
  scalekit::testing::temp_dir dir("cli-serve-reload");
  const auto write_app = [&](const std::string& text) {
    std::ofstream(dir / "reloaded.py") << "def app(environ, start_response):\n"
                                          "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                                          "    return [b'"
                                       << text << "']\n";
  };
  write_app("version 1");
  serve_server server("-w 2 --chdir " + dir.path.string() + " --wsgi reloaded:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  EXPECT_EQ(server.get("/"), "200\nversion 1");
  write_app("version 2");
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(server.wait_for_log("reload done", 10s)) << server.log();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(server.get("/"), "200\nversion 2");
}
