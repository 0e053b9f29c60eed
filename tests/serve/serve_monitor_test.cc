// What `scalekit serve` shows of itself: the WSGI apps' outcomes on /metrics
// and /status, what ps says each process is, a hostile app's wsgi.errors,
// label values a hostile command line makes, the workers' connection bound.
// The real master and workers, real sockets (tests/fixtures/wsgi/monitor_apps.py).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"
#include "loopback.h"
#include "prometheus_text.h"
#include "serve_helpers.h"

using scalekit::testing::connect_loopback;
using scalekit::testing::count_of;
using scalekit::testing::json;
using scalekit::testing::prometheus_text;
using scalekit::testing::serve_server;
using scalekit::testing::slurp;
using namespace std::chrono_literals;

namespace {

const std::string apps_dir = " --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi ";

// /metrics read as Prometheus reads it (after serve_client's "200\n").
prometheus_text metrics_of(const serve_server& server) { return prometheus_text(server.get("/metrics").substr(4)); }

// A sample's value, -1 when absent.
double sample(const prometheus_text& m, const std::string& key) {
  const auto it = m.samples.find(key);
  return it == m.samples.end() ? -1 : it->second;
}

// Connects, asks for `path`, reads until `bytes` arrived, and leaves.
void read_some_and_leave(const std::string& port, const std::string& path, std::size_t bytes) {
  const int fd = connect_loopback(port, {.receive_timeout = 10s});
  ASSERT_GE(fd, 0);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::size_t got = 0;
  char buf[65536];
  while (got < bytes) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  EXPECT_GE(got, bytes);
}

}  // namespace

// The outcome of every WSGI call, by app and mount, on /metrics (by worker,
// as the GIL wait) and on /status (the whole server's): an app that raises,
// one that fails after its head, one whose client leaves mid-body.
TEST(ServeMonitor, WsgiCallOutcomesAreCountedByApp) {
  serve_server server("-w 1" + apps_dir +
                      "--wsgi monitor_apps:fails --mount /fails --wsgi monitor_apps:cuts --mount /cuts "
                      "--wsgi monitor_apps:endless --mount /endless --wsgi monitor_apps:hello --mount /hello");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  EXPECT_EQ(server.get("/fails/").substr(0, 4), "500\n");
  EXPECT_EQ(server.get("/fails/").substr(0, 4), "500\n");
  (void)server.get("/cuts/");  // the client sees a cut body
  EXPECT_EQ(server.get("/hello/"), "200\nhello\n");
  read_some_and_leave(server.port(), "/endless/", 200000);
  const auto gone = [](const json& s) {
    for (const auto& a : s.value("apps", json::array()))
      if (a["app"] == "monitor_apps:endless") return a["client_gone"] == 1;
    return false;
  };
  ASSERT_TRUE(server.wait_until(gone, 20s)) << server.status().dump() << server.log();

  const json s = server.status();
  ASSERT_EQ(s["apps"].size(), 4u) << s.dump();
  const auto app = [&](std::size_t i) { return s["apps"][i]; };
  EXPECT_EQ(app(0)["app"], "monitor_apps:fails");
  EXPECT_EQ(app(0)["mount"], "/fails");
  EXPECT_EQ(app(0)["calls"], 2);
  EXPECT_EQ(app(0)["app_errors"], 2);
  EXPECT_EQ(app(1)["calls"], 1);
  EXPECT_EQ(app(1)["cut"], 1);
  EXPECT_EQ(app(1)["app_errors"], 0);
  EXPECT_EQ(app(2)["client_gone"], 1);
  EXPECT_EQ(app(3)["calls"], 1);
  EXPECT_EQ(app(3)["app_errors"].get<int>() + app(3)["cut"].get<int>() + app(3)["client_gone"].get<int>(), 0);
  EXPECT_GE(app(3)["gil_wait_s"].get<double>(), 0);

  const prometheus_text m = metrics_of(server);
  ASSERT_EQ(m.error, "");
  const std::string fails = "{worker=\"0\",app=\"monitor_apps:fails\",mount=\"/fails\"";
  EXPECT_EQ(sample(m, "scalekit_serve_wsgi_calls_total" + fails + "}"), 2);
  EXPECT_EQ(sample(m, "scalekit_serve_wsgi_failed_calls_total" + fails + ",outcome=\"app_error\"}"), 2);
  EXPECT_EQ(sample(m, "scalekit_serve_wsgi_failed_calls_total" + fails + ",outcome=\"cut\"}"), 0);
  EXPECT_EQ(sample(m,
                   "scalekit_serve_wsgi_failed_calls_total{worker=\"0\",app=\"monitor_apps:cuts\",mount=\"/cuts\","
                   "outcome=\"cut\"}"),
            1);
  EXPECT_EQ(sample(m,
                   "scalekit_serve_wsgi_failed_calls_total{worker=\"0\",app=\"monitor_apps:endless\",mount=\"/"
                   "endless\",outcome=\"client_gone\"}"),
            1);
  EXPECT_GE(sample(m, "scalekit_serve_gil_wait_seconds_total" + fails + "}"), 0);  // the same labels
}

// ps tells the processes apart: the master and each worker by argv[0] (what
// `ps -o args` shows) and by name (`ps -o comm`); every worker was "exe".
TEST(ServeMonitor, PsSaysWhichProcessIsTheMasterAndWhichAWorker) {
  serve_server server("-w 2");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const json s = server.status();
  const std::string master = std::to_string(s["master_pid"].get<int>());
  const auto argv0 = [](const std::string& pid) {
    const std::string cmdline = slurp("/proc/" + pid + "/cmdline");
    return cmdline.substr(0, cmdline.find('\0'));
  };
  const auto comm = [](const std::string& pid) {
    std::string c = slurp("/proc/" + pid + "/comm");
    return c.substr(0, c.find('\n'));
  };
  // Run as `scalekit serve`, the master is exec'd with its title; run as
  // scalekit-serve itself (the tsan build's tests), argv[0] is the caller's.
  if (std::string(scalekit::testing::bin).ends_with("/scalekit")) {
    EXPECT_EQ(argv0(master), "scalekit serve: master");
  }
  EXPECT_EQ(comm(master), "serve master");
  ASSERT_EQ(s["workers"].size(), 2u) << s.dump();
  for (const auto& w : s["workers"]) {
    const std::string pid = std::to_string(w["pid"].get<int>()), slot = std::to_string(w["slot"].get<int>());
    EXPECT_EQ(argv0(pid), "scalekit serve: worker " + slot);
    EXPECT_EQ(comm(pid), "serve worker " + slot);
    // The rest of the command line is the worker's to parse, as before.
    EXPECT_NE(slurp("/proc/" + pid + "/cmdline").find(std::string("serve\0", 6)), std::string::npos);
  }
}

// A hostile app's wsgi.errors: one line of 64 MiB without a newline is cut at
// 16 KiB with a marker (the rest counted, never logged); a flood of lines is
// let through up to the rate, the rest dropped and counted, and said so once;
// a traceback passes whole, a line per line.
TEST(ServeMonitor, WsgiErrorsIsBoundedAndKeepsTracebacks) {
  serve_server server("-w 1" + apps_dir +
                      "--wsgi monitor_apps:long_line --mount /long --wsgi monitor_apps:a_traceback --mount /tb "
                      "--wsgi monitor_apps:flood --mount /flood");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();

  EXPECT_EQ(server.get("/long/"), "200\nwrote\n");
  const std::uint64_t line = 6 + (std::uint64_t{64} << 20), kept = 16 * 1024;
  const std::string marker =
      " [wsgi.errors: line cut at 16384 bytes, " + std::to_string(line - kept) + " more dropped]\n";
  ASSERT_TRUE(server.wait_for_log(marker, 10s)) << server.log().size();
  std::string log = server.log();
  EXPECT_LT(log.size(), std::size_t{1} << 20);
  const auto at = log.find("start:x");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(log.find(marker), at + kept) << "the line holds its first 16 KiB, then the marker";

  EXPECT_EQ(server.get("/tb/"), "200\nlogged\n");
  ASSERT_TRUE(server.wait_for_log("ZeroDivisionError: division by zero\n", 10s)) << server.log();
  log = server.log();
  EXPECT_NE(log.find("Traceback (most recent call last):\n  File \""), std::string::npos) << log;
  EXPECT_NE(log.find("    1 / 0\n"), std::string::npos) << log;

  EXPECT_EQ(server.get("/flood/"), "200\ndone\n");
  std::this_thread::sleep_for(1500ms);  // a second's worth: the rate lets lines through again
  EXPECT_EQ(server.get("/flood/?after"), "200\ndone\n");
  ASSERT_TRUE(server.wait_for_log("after the flood\n", 10s)) << server.log().size();
  log = server.log();
  const std::size_t written = count_of(log, "flood ffff");
  EXPECT_GE(written, 8u * 1024 - 64) << "the burst: 8 MiB of 1 KiB lines";
  EXPECT_LT(written, 16u * 1024);
  // The lines dropped are said when lines go out again (about once a second), and add up.
  std::size_t notices = 0, dropped = 0, dropped_bytes = 0;
  for (auto n = log.find("\nwsgi.errors: "); n != std::string::npos; n = log.find("\nwsgi.errors: ", n + 1)) {
    unsigned long lines = 0, bytes = 0;
    char tail[64]{};
    ASSERT_EQ(std::sscanf(log.c_str() + n, "\nwsgi.errors: %lu lines (%lu bytes) dropped: %63[^\n]", &lines, &bytes,
                          tail),
              3);
    EXPECT_STREQ(tail, "more than 1 MiB a second");
    ++notices;
    dropped += lines;
    dropped_bytes += bytes;
  }
  EXPECT_GE(notices, 1u);
  EXPECT_LE(notices, 10u) << "one a second at most";
  EXPECT_EQ(written + dropped, 16u * 1024);
  EXPECT_EQ(dropped_bytes, dropped * 1024);
  EXPECT_NE(log.find("dropped: more than 1 MiB a second\nafter the flood\n"), std::string::npos);

  const prometheus_text m = metrics_of(server);
  ASSERT_EQ(m.error, "");
  EXPECT_EQ(sample(m, "scalekit_serve_wsgi_errors_dropped_bytes_total{worker=\"0\",reason=\"long_line\"}"),
            static_cast<double>(line - kept));
  EXPECT_EQ(sample(m, "scalekit_serve_wsgi_errors_dropped_bytes_total{worker=\"0\",reason=\"rate\"}"),
            static_cast<double>(dropped_bytes));
}

// Mounts a hostile command line can give (a quote, a backslash, a newline, a
// byte that is not UTF-8) and more apps than a slot counts apart: /metrics
// stays Prometheus text (label values escaped, UTF-8), /status stays JSON.
TEST(ServeMonitor, OddMountsAndManyAppsKeepMetricsAndStatusWellFormed) {
  std::string args = "-w 1" + apps_dir +
                     "--wsgi monitor_apps:hello --mount '/q\"uote' --wsgi monitor_apps:hello --mount '/back\\slash' "
                     "--wsgi monitor_apps:hello --mount \"$(printf '/new\\nline')\" "
                     "--wsgi monitor_apps:hello --mount \"$(printf '/bad\\377byte')\"";
  for (int i = 0; i < 6; ++i) args += " --wsgi monitor_apps:hello --mount /app" + std::to_string(i);
  serve_server server(args);
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  EXPECT_EQ(server.get("/q%22uote/"), "200\nhello\n");
  EXPECT_EQ(server.get("/new%0Aline/"), "200\nhello\n");
  EXPECT_EQ(server.get("/bad%FFbyte/"), "200\nhello\n");
  EXPECT_EQ(server.get("/app5/"), "200\nhello\n");

  const prometheus_text m = metrics_of(server);
  ASSERT_EQ(m.error, "");
  const std::string calls = "scalekit_serve_wsgi_calls_total{worker=\"0\",app=\"monitor_apps:hello\",mount=\"";
  EXPECT_EQ(sample(m, calls + "/q\\\"uote\"}"), 1);
  EXPECT_EQ(sample(m, calls + "/back\\\\slash\"}"), 0);
  EXPECT_EQ(sample(m, calls + "/new\\nline\"}"), 1);
  EXPECT_EQ(sample(m, calls + "/bad\xEF\xBF\xBD"
                              "byte\"}"),
            1);
  // Ten apps: the eighth place counts the eighth, ninth and tenth, and says so.
  EXPECT_EQ(sample(m, "scalekit_serve_wsgi_calls_total{worker=\"0\",app=\"(the rest)\",mount=\"\"}"), 1);

  const auto status = server.get("/status");
  const json s = json::parse(status.substr(4));  // throws on a byte that is not UTF-8
  ASSERT_EQ(s["apps"].size(), 8u) << s.dump();
  EXPECT_EQ(s["apps"][0]["mount"], "/q\"uote");
  EXPECT_EQ(s["apps"][1]["mount"], "/back\\slash");
  EXPECT_EQ(s["apps"][2]["mount"], "/new\nline");
  EXPECT_EQ(s["apps"][3]["mount"],
            "/bad\xEF\xBF\xBD"
            "byte");
  EXPECT_EQ(s["apps"][7]["app"], "(the rest)");
  EXPECT_EQ(s["apps"][7]["calls"], 1);
}

// The workers serve as many connections at once as the master said, even
// when an app changed the descriptor limit at import (they computed their
// own bound, after the import, and refused past 68 here).
TEST(ServeMonitor, WorkersTakeTheirConnectionBoundFromTheMaster) {
  serve_server server("-w 1" + apps_dir + "--wsgi lowered_limit:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const json s = server.status();
  EXPECT_EQ(s["worker_connections"], 512) << s.dump();
  std::vector<int> fds;
  for (int i = 0; i < 80; ++i) {
    const int fd = connect_loopback(server.port(), {.receive_timeout = 10s});
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  int answered = 0;
  for (const int fd : fds) {
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) continue;
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 12 && std::string(buf, 12) == "HTTP/1.1 200") ++answered;
  }
  for (const int fd : fds) ::close(fd);
  EXPECT_EQ(answered, 80) << server.log();
  EXPECT_EQ(count_of(server.log(), "connection limit"), 0u) << server.log();
}
