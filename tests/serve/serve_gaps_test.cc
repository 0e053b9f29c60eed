// `scalekit serve` against the small gaps of issue 12: an app's unbounded
// response head, an app's error after a whole response, a process an app forks
// that lives on. The real master and workers, real sockets.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cli_helpers.h"
#include "loopback.h"
#include "serve_helpers.h"

using scalekit::testing::count_of;
using scalekit::testing::json;
using scalekit::testing::serve_server;
using namespace std::chrono_literals;

namespace {

const std::string gap_apps = "--pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi gap_apps:";

// What a server answers `request` with, up to its close of the connection.
std::string answer_to(const std::string& port, const std::string& request) {
  const int fd = scalekit::testing::connect_loopback(port, {.receive_timeout = 10s});
  if (fd < 0) return "cannot connect";
  std::string got;
  if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got;
}

// HUP to the master until its log says `said` ("listening on" comes before
// the master takes its signals, so the first HUPs may go unheard).
bool hup_until_said(serve_server& server, const std::string& said) {
  for (int i = 0; i < 100; ++i) {
    ::kill(server.pid(), SIGHUP);
    if (server.wait_for_log(said, 100ms)) return true;
  }
  return false;
}

}  // namespace

// An app's head as big as it likes (100,000 fields, a 50 MB value) was built
// whole by the worker. Past a request head's bounds it is now a 500 and one
// log line naming the app and the problem; the worker keeps serving.
TEST(ServeGaps, AnOversizedResponseHeadIsA500) {
  for (const std::string app : {"many_headers", "huge_header"}) {
    serve_server server("-w 1 " + gap_apps + app);
    ASSERT_FALSE(server.port().empty()) << server.log();
    ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
    EXPECT_EQ(server.get("/"), "500\nInternal Server Error\n") << app;
    EXPECT_EQ(server.get("/healthz"), "200\nok\n") << app;
    const std::string log = server.stop();
    const std::string said = app == "many_headers" ? "100000 header fields, more than the 100"
                                                   : "the header fields take more than the 16384 bytes";
    EXPECT_NE(log.find("wsgi app 'gap_apps:" + app + "': GET /: ValueError: start_response: " + said),
              std::string::npos)
        << log;
    EXPECT_EQ(count_of(log, "(500 sent)"), 1u) << log;
  }
}

// An app that raised after its whole body (by Content-Length) had gone out
// was logged as a cut connection, and the connection was cut: the client had
// its response, so the log says so and the connection serves the next request.
TEST(ServeGaps, AnErrorAfterAWholeResponseIsNoCut) {
  serve_server server("-w 1 " + gap_apps + "complete_then_raise");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string got =
      answer_to(server.port(),
                "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(count_of(got, "HTTP/1.1 200 OK\r\n"), 2u) << got;
  EXPECT_EQ(count_of(got, "\r\n\r\nwhole\n"), 2u) << got;
  const std::string log = server.stop();
  EXPECT_EQ(count_of(log, "RuntimeError: after the body after a whole response (the response stands)"), 2u) << log;
  EXPECT_EQ(log.find("connection cut"), std::string::npos) << log;
}

// A child an app forks that lives on (a daemon) kept the worker's listening
// socket, so the port stayed taken after the server stopped. The child now
// closes it at the fork: stopping serve frees the port at once.
TEST(ServeGaps, AForkedChildThatLivesOnDoesNotKeepThePort) {
  serve_server server("-w 1 " + gap_apps + "fork_daemon");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string answer = server.get("/");
  ASSERT_EQ(answer.substr(0, 4), "200\n") << answer;
  const int child = std::stoi(answer.substr(4));
  ASSERT_GT(child, 0);
  server.stop();
  const int bind_errno =
      scalekit::testing::listen_loopback(static_cast<std::uint16_t>(std::stoi(server.port()))).error();
  const bool child_alive = ::kill(child, 0) == 0;
  ::kill(child, SIGKILL);
  EXPECT_TRUE(child_alive) << "the daemon child should have lived on";
  EXPECT_EQ(bind_errno, 0) << "port " << server.port() << ": " << std::strerror(bind_errno);
}

// --max-requests N plus a jitter near 2^64 wrapped round (the limit came out
// smaller than N); a huge --max-body or --cache-mb was no bound (and the
// cache's bytes wrapped). Each is one line of bad usage, status 2, before
// anything listens.
TEST(ServeGaps, IntegerFlagsPastTheirRangeAreBadUsage) {
  const std::pair<std::string, std::string> cases[] = {
      {"--max-requests 10 --max-requests-jitter 18446744073709551615",
       "--max-requests-jitter: 18446744073709551615 plus --max-requests 10 is past 18446744073709551615"},
      {"--max-requests 18446744073709551615 --max-requests-jitter 1", "--max-requests-jitter: 1 plus"},
      {"--max-body 18446744073709551615", "--max-body"},
      {"--cache-mb 18446744073709551615", "--cache-mb"},
      {"--threads 18446744073709551615", "--threads"},
      {"--workers 18446744073709551615", "--workers"},
      {"-w 1 -w 2", "--workers: given more than once (see --help)"},  // CLI11 said "At Most 1 required"
      {"--threads -1", "--threads: '-1' is negative (see --help)"},   // and --help says the range
  };
  for (const auto& [args, said] : cases) {
    const auto r = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << args << ": " << r.err;
    EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
  }
  // The largest that fit still start.
  scalekit::testing::serve_server server("-w 1 --max-requests 18446744073709551614 --max-requests-jitter 1");
  EXPECT_FALSE(server.port().empty()) << server.log();
}

// --mount pairs with the --wsgi app just before it (MISSION.md's contract):
// `--wsgi a --wsgi b --mount /b` mounted a on /b and b on /. A --mount with no
// app before it, two for one app, or two apps on one prefix are bad usage.
TEST(ServeGaps, MountsPairWithTheAppBeforeThem) {
  const std::string apps = "--pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi ";
  const std::pair<std::string, std::string> bad[] = {
      {"--mount /a --wsgi apps:hello", "--mount '/a' without a --wsgi app before it"},
      {"--wsgi apps:hello --mount /a --mount /b", "--mount '/b': the --wsgi app before it (apps:hello) has a --mount"},
      {"--wsgi apps:hello --wsgi apps:echo_environ", "are both mounted on / (give each its own --mount)"},
      {"--wsgi apps:hello --mount /a --wsgi apps:echo_environ --mount /a/", "are both mounted on /a"},
      {"--wsgi apps:hello apps:echo_environ", "apps:echo_environ"},
  };
  for (const auto& [args, said] : bad) {
    const auto r = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 " + apps + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << args << ": " << r.err;
  }
  serve_server server("-w 1 " + apps + "--wsgi apps:hello --wsgi apps:echo_environ --mount /env");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string env = server.get("/env/x");
  EXPECT_NE(env.find("\"SCRIPT_NAME\": \"/env\""), std::string::npos) << env;
  EXPECT_EQ(server.get("/x"), "200\nHello, world!") << server.log();
}

// /metrics had the loop relay's counters (calls run on the loop's thread, and
// the times another thread had to take the loop over), /status did not: now it
// has them per worker and for the whole server, with /metrics' values.
TEST(ServeGaps, StatusHasTheLoopRelaysCounters) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi serve_apps:hello");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  json s;
  for (int i = 0; i < 300; ++i) {  // a quick app is learned after some calls (a slow one starts it again)
    (void)server.get("/");
    s = server.status();
    if (i >= 16 && s.value("run_on_loop", 0) > 0) break;
  }
  ASSERT_GT(s.value("run_on_loop", 0), 0) << s.dump();
  ASSERT_TRUE(s.contains("loop_rescues")) << s.dump();
  ASSERT_EQ(s["workers"].size(), 1u) << s.dump();
  const json& w = s["workers"][0];
  EXPECT_EQ(w["run_on_loop"], s["run_on_loop"]) << s.dump();
  EXPECT_EQ(w["loop_rescues"], s["loop_rescues"]) << s.dump();
  // The same count as /metrics' (the requests for /status and /metrics are native: they add nothing).
  const std::string metrics = server.get("/metrics");
  const std::string key = "scalekit_serve_wsgi_run_on_loop_total{worker=\"0\"} ";
  const auto at = metrics.find(key);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_EQ(std::stoll(metrics.substr(at + key.size())), w["run_on_loop"].get<long long>()) << metrics;
}

// Under a descriptor limit too small for the connection bound (512 live and
// as many being refused) a worker ran into EMFILE ("accept failed: Too many
// open files") before its own bound. The soft limit is raised toward the hard
// one; past that the bound shrinks to fit, which the master says once.
TEST(ServeGaps, ADescriptorLimitTooSmallForTheConnectionBoundShrinksIt) {
  scalekit::testing::server_process server("prlimit --nofile=300 " + scalekit::testing::bin, "serve -w 1",
                                           "serve-nofile");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  std::vector<int> fds;
  for (int i = 0; i < 600; ++i)
    if (const int fd = scalekit::testing::connect_loopback(server.port()); fd >= 0) fds.push_back(fd);
  EXPECT_TRUE(server.wait_for_log("connection limit of 118 reached", 10s)) << server.log();
  for (const int fd : fds) ::close(fd);
  const std::string log = server.stop();
  EXPECT_EQ(count_of(log,
                     "the descriptor limit is 300 and 1088 would serve 512 connections at once: each worker "
                     "serves at most 118"),
            1u)
      << log;
  EXPECT_EQ(log.find("Too many open files"), std::string::npos) << log;
}

// A TTIN past the scoreboard's slots (fixed at start: 2 x -w + 16) raised the
// count wanted with no worker started, and once every slot was taken a HUP
// found none for a successor and never ended. TTIN now stops one short of the
// slots, says so, and a reload still goes through.
TEST(ServeGaps, TtinStopsShortOfTheScoreboardAndAReloadStillEnds) {
  serve_server server("-w 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  static constexpr int most = 2 * 1 + 16 - 1;  // the slots, less one for a successor
  for (int i = 0; i < most + 8; ++i) {
    ::kill(server.pid(), SIGTTIN);
    std::this_thread::sleep_for(20ms);  // two at once may arrive as one
  }
  ASSERT_TRUE(server.wait_for_log("TTIN: 17 workers is the most this master runs")) << server.log();
  ASSERT_TRUE(server.wait_until(
      [](const json& s) {
        return s["workers_wanted"] == most && scalekit::testing::ready_workers(s) == static_cast<std::size_t>(most);
      },
      60s))
      << server.status().dump();
  ::kill(server.pid(), SIGHUP);
  EXPECT_TRUE(server.wait_until([](const json& s) { return s["restarts"]["reload"].get<int>() >= 1; }, 60s))
      << server.log();
  EXPECT_EQ(server.status()["workers_wanted"], most);
}

// Seconds were cut to whole milliseconds: --timeout 0.0004 became 0, which
// means no limit, so the shortest timeout asked for was none at all. They are
// rounded up now.
TEST(ServeGaps, ASubMillisecondTimeoutIsStillATimeout) {
  serve_server server("-w 1 --timeout 0.0004");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  EXPECT_EQ(server.get("/sleep?ms=3000").substr(0, 3), "504") << server.log();
}

// A --wsgi target of the wrong shape (":app", "mod:", "mod:a.") passed the
// command line, and each worker refused it at start: three deaths, then status
// 1 after "listening on". It is bad usage now, before any port is bound.
TEST(ServeGaps, AMalformedWsgiTargetIsBadUsage) {
  for (const std::string target : {":app", "apps:", "apps:hello."}) {
    const auto r = scalekit::testing::run_scalekit(
        "serve --listen 127.0.0.1:0 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi " + target);
    EXPECT_EQ(r.exit_code, 2) << target << ": " << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << target << ": " << r.err;
    EXPECT_NE(r.err.find("wsgi app '" + target + "': expected MODULE:CALLABLE"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
  }
}

// The man page is made from --help, and --help said nothing of the endpoints or
// the master's signals: an installed scalekit documented neither.
TEST(ServeGaps, TheHelpNamesTheEndpointsAndTheSignals) {
  const auto r = scalekit::testing::run_scalekit("serve --help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string word : {"/healthz", "/metrics", "/status", "/mandelbrot.png", "POST /sort", "/primes",
                                 "POST /thumbnail", "HUP", "TERM", "QUIT", "TTIN", "TTOU", "USR2", "LISTEN_FDS"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << " is not in:\n" << r.out;
}

// An absolute-form target (`GET http://host/path`, RFC 9112 3.2.2: a server
// MUST accept it) was answered 400. Its path and query are served now, and its
// authority is the Host the app sees; a scheme other than http(s) is still a 400.
TEST(ServeGaps, AnAbsoluteFormTargetIsServed) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi apps:echo_environ --mount /env");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string tail = " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string health = answer_to(server.port(), "GET http://127.0.0.1:" + server.port() + "/healthz" + tail);
  EXPECT_EQ(health.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << health;
  EXPECT_EQ(health.substr(health.size() - 7), "\r\n\r\nok\n") << health;
  const std::string env = answer_to(server.port(), "GET HTTP://example.org:81/env/a?q=1" + tail);
  EXPECT_EQ(env.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << env;
  for (const char* said : {"\"PATH_INFO\": \"/a\"", "\"QUERY_STRING\": \"q=1\"", "\"HTTP_HOST\": \"example.org:81\""})
    EXPECT_NE(env.find(said), std::string::npos) << said << " in " << env;
  const std::string ftp = answer_to(server.port(), "GET ftp://127.0.0.1/healthz" + tail);
  EXPECT_EQ(ftp.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << ftp;
  EXPECT_NE(ftp.find("unsupported request target: a path starting with '/', or an http(s) URI"), std::string::npos)
      << ftp;
}

// The native endpoints read their query undecoded: "n=%31%30" (10, as a form
// may send it) was a 400. And PUT /sort said "Allow: GET, HEAD", where only a
// POST is taken.
TEST(ServeGaps, AQueryIsDecodedAndAPostOnlyPageSaysPost) {
  serve_server server("-w 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  EXPECT_EQ(server.get("/primes?n=%31%30"), "200\n{\"n\": 10, \"prime\": false, \"factors\": [2, 5]}\n");
  EXPECT_EQ(server.get("/primes?%6E=7"), "200\n{\"n\": 7, \"prime\": true, \"factors\": [7]}\n");
  EXPECT_EQ(server.get("/primes?n=1+0").substr(0, 4), "400\n");  // '+' is a space
  EXPECT_EQ(server.get("/mandelbrot.png?w=%32%30&h=20&n=5").substr(0, 8), "200\n\x89PNG");
  const std::string tail = " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n[1]";
  for (const std::string method : {"PUT", "DELETE"}) {
    for (const std::string path : {"/sort", "/thumbnail"}) {
      const std::string r = answer_to(server.port(), method + " " + path + tail);
      EXPECT_EQ(r.rfind("HTTP/1.1 405 ", 0), 0u) << method << " " << path << ": " << r;
      EXPECT_NE(r.find("\r\nAllow: POST\r\n"), std::string::npos) << method << " " << path << ": " << r;
    }
  }
  const std::string put = answer_to(server.port(), "PUT /healthz" + tail);
  EXPECT_NE(put.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << put;
}

// A tile's work was bounded only by --timeout (n has no bound of its own): one
// request, 4096x4096 at n = 4e9 inside the set, held a worker's jobs executor
// until the 504 and cost the worker. Past 2^36 iterations (w*h*n) it is a 413
// now, counted with the other refused parameters (4xx), and the worker serves on.
TEST(ServeGaps, ATileOfTooMuchWorkIsRefused) {
  serve_server server("-w 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::pair<std::string, std::string> cases[] = {
      {"w=4096&h=4096&n=4000000000&x0=-0.1&x1=0.1&y0=-0.1&y1=0.1", "not 67108864000000000"},
      {"w=256&h=256&n=1048577", "not 68719542272"},  // 2^36 + 2^16
      {"z=3&x=2&y=2&n=1048577", "not 68719542272"},  // the explorer's form: 256 x 256 too
  };
  for (const auto& [query, said] : cases) {
    const std::string got = server.get("/mandelbrot.png?" + query);
    EXPECT_EQ(got.substr(0, 4), "413\n") << query << ": " << got;
    EXPECT_NE(got.find("a tile is at most 68719476736 iterations (w*h*n), not "), std::string::npos) << got;
    EXPECT_NE(got.find(said), std::string::npos) << query << ": " << got;
    EXPECT_EQ(count_of(got, "\n"), 2u) << got;  // the status, and one line
  }
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
  const std::string metrics = server.get("/metrics");
  const std::string key = "scalekit_serve_requests_total{worker=\"0\",code=\"4xx\"} ";
  const auto at = metrics.find(key);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_EQ(std::stoll(metrics.substr(at + key.size())), 3) << metrics;
}

// --pid FILE in a directory that does not exist said "cannot write the pidfile
// DIR/FILE.tmp669" after "listening on": the temporary name, and no reason. It
// is bad usage now, naming the file given and why, before anything listens.
TEST(ServeGaps, APidfileThatCannotBeWrittenIsBadUsageNamingIt) {
  scalekit::testing::temp_dir dir("serve-pid");
  const std::string missing = (dir.path / "missing" / "serve.pid").string();
  const std::pair<std::string, std::string> cases[] = {
      {missing, "cannot write the pidfile " + missing + ": No such file or directory"},
      {dir.path.string(), "cannot write the pidfile " + dir.path.string() + ": Is a directory"},
  };
  for (const auto& [file, said] : cases) {
    const auto r = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 -w 1 --pid " + file);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
  }
}

// A second server given a running one's --pid took the file over, and its exit
// deleted it while the first still ran. It is bad usage now; a stale file (its
// pid gone) is still taken.
TEST(ServeGaps, APidfileOfARunningServerIsNotTakenOver) {
  scalekit::testing::temp_dir dir("serve-pid-taken");
  const std::string file = (dir.path / "serve.pid").string();
  serve_server first("-w 1 --pid " + file);
  ASSERT_FALSE(first.port().empty()) << first.log();
  ASSERT_TRUE(first.wait_for_log("1 worker ready")) << first.log();
  const auto r = scalekit::testing::run_scalekit("serve --listen 127.0.0.1:0 -w 1 --pid " + file);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--pid " + file + ": names a running server (pid " + std::to_string(first.pid()) + ")"),
            std::string::npos)
      << r.err;
  std::string named;
  std::getline(std::ifstream(file), named);
  EXPECT_EQ(named, std::to_string(first.pid()));
  first.stop();
  EXPECT_FALSE(std::filesystem::exists(file));
  std::ofstream(file) << "999999999\n";  // stale: no such process
  serve_server second("-w 1 --pid " + file);
  ASSERT_FALSE(second.port().empty()) << second.log();
  ASSERT_TRUE(second.wait_for_log("1 worker ready")) << second.log();
  std::getline(std::ifstream(file), named);
  EXPECT_EQ(named, std::to_string(second.pid()));
}

// `--listen A --listen A` failed at the second bind with "Address already in
// use", which reads as another process holding the port. It is bad usage now,
// before anything is bound; port 0 (any free port) twice is still two ports.
TEST(ServeGaps, AnAddressGivenTwiceIsBadUsage) {
  const auto held = scalekit::testing::listen_loopback(0);  // a port nobody else takes meanwhile
  ASSERT_TRUE(held.ok());
  const std::string address = "127.0.0.1:" + std::to_string(held.port());
  const auto r = scalekit::testing::run_scalekit("serve -w 1 --listen " + address + " --listen " + address);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
  EXPECT_NE(r.err.find("--listen " + address + " is given twice"), std::string::npos) << r.err;
  serve_server two("-w 1 --listen 127.0.0.1:0");  // and the helper's own --listen 127.0.0.1:0
  ASSERT_FALSE(two.port().empty()) << two.log();
  ASSERT_TRUE(two.wait_for_log("1 worker ready")) << two.log();
  EXPECT_EQ(count_of(two.log(), "listening on 127.0.0.1:"), 2u) << two.log();
}

// A HUP while the workers still started (an app importing for 8 s) began a
// reload at once: the start ended ("1 worker ready", READY=1) only after the
// whole reload, and meanwhile the master said "1 of 1 workers ready after 5 s:
// the others are still starting". The reload now waits for the start, and says so.
TEST(ServeGaps, AHupDuringTheStartWaitsForIt) {
  serve_server server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi slow_import:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(hup_until_said(server, "HUP: a reload waits until the start is done")) << server.log();
  ASSERT_TRUE(server.wait_for_log("reload done", 60s)) << server.log();
  const std::string log = server.log();
  const auto ready = log.find("1 worker ready\n"), reload = log.find("reload: starting new workers");
  ASSERT_NE(ready, std::string::npos) << log;
  EXPECT_LT(ready, reload) << log;
  EXPECT_EQ(count_of(log, "HUP: a reload waits"), 1u) << log;
  EXPECT_EQ(count_of(log, "reload: starting new workers"), 1u) << log;
  EXPECT_EQ(server.get("/"), "200\nimported\n") << server.log();
}

// The wait above is bounded by --upgrade-timeout: a start that hangs (an
// import that never returns) would otherwise keep a HUP waiting for ever, where
// the reload is what replaces the hung workers with the code fixed since.
TEST(ServeGaps, AHupDuringAStartThatHangsReloadsPastTheUpgradeTimeout) {
  scalekit::testing::temp_dir dir("serve-hup-hung-start");
  scalekit::testing::write_hang_marker_app(dir.path, "fixed");
  std::ofstream(dir / "hang") << "";
  serve_server server("-w 1 --grace 1 --upgrade-timeout 2 --chdir " + dir.path.string() + " --wsgi app:app");
  const scalekit::testing::kill_group_at_end kill_what_is_left{server.pid()};
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(hup_until_said(server, "HUP: a reload waits until the start is done (at most 2 s")) << server.log();
  ASSERT_TRUE(scalekit::testing::eventually([&] { return std::filesystem::exists(dir / "hanging"); }))
      << server.log();                    // the worker's import hangs
  std::filesystem::remove(dir / "hang");  // the fix
  ASSERT_TRUE(server.wait_for_log("1 worker ready", 60s)) << server.log();
  EXPECT_NE(server.log().find("reload: starting new workers"), std::string::npos) << server.log();
  EXPECT_EQ(server.get("/"), "200\nfixed") << server.log();
}

// A HUP to the old master while its USR2 successor started reloaded the old
// workers, which leave anyway (the new master loads the apps afresh): a second
// set of workers importing at once, for nothing. The reload now waits, said
// once, and follows only when the upgrade fails (here: the new master killed).
TEST(ServeGaps, AHupDuringAnUpgradeWaitsForItsOutcome) {
  scalekit::testing::temp_dir dir("serve-hup-usr2");
  scalekit::testing::write_hang_marker_app(dir.path, "served");
  serve_server server("-w 1 --grace 1 --chdir " + dir.path.string() + " --wsgi app:app");
  const scalekit::testing::kill_group_at_end kill_what_is_left{server.pid()};
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  std::ofstream(dir / "hang") << "";
  ::kill(server.pid(), SIGUSR2);
  ASSERT_TRUE(server.wait_for_log("USR2: new master pid ")) << server.log();
  const int new_master = scalekit::testing::new_master_pid(server.log());
  ASSERT_GT(new_master, 0) << server.log();
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(server.wait_for_log("HUP: an upgrade is under way (new master pid " + std::to_string(new_master) +
                                  "), whose workers load the apps afresh: a reload follows only if it fails"))
      << server.log();
  EXPECT_EQ(server.log().find("reload: starting new workers"), std::string::npos) << server.log();
  std::filesystem::remove(dir / "hang");
  ::kill(new_master, SIGKILL);
  ASSERT_TRUE(server.wait_for_log("reload done", 60s)) << server.log();
  const std::string log = server.log();
  EXPECT_LT(log.find("upgrade failed"), log.find("reload: starting new workers")) << log;
  EXPECT_EQ(server.get("/"), "200\nserved") << log;
}
