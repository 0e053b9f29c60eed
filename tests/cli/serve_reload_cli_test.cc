// Integration tests of the ways `scalekit serve` changes its code while it
// serves: HUP (new workers), USR2 (a new master on the same sockets) and
// --preload (the apps checked before any worker starts). Load from Debian's wrk.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "sanitizers.h"
#include "serve_helpers.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::count_of;
using scalekit::testing::kill_group_at_end;
using scalekit::testing::new_master_pid;
using scalekit::testing::pids;
using scalekit::testing::ready_workers;
using scalekit::testing::serve_server;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* wrk = "/usr/bin/wrk";
const std::string wsgi_fixtures = SCALEKIT_SEEDS_DIR "/../wsgi";

// wrk against `path` until it is stopped (SIGINT: it prints its summary then).
std::string wrk_command(const serve_server& server, const std::string& path) {
  const int seconds = 60 * scalekit::testing::sanitizer_slowdown;
  return std::string(wrk) + " -t 2 -c 16 -d " + std::to_string(seconds) + "s http://127.0.0.1:" + server.port() + path;
}

// What a wrk summary says went wrong: its "Non-2xx" and "Socket errors" lines
// (wrk prints them only when they are not zero), or "" when nothing did.
std::string wrk_failures(const std::string& summary) {
  std::string out;
  for (const char* what : {"Non-2xx", "Socket errors"}) {
    const auto at = summary.find(what);
    if (at != std::string::npos) out += summary.substr(at, summary.find('\n', at) - at) + "\n";
  }
  return out;
}

long wrk_requests(const std::string& summary) {
  const auto at = summary.find(" requests in ");
  if (at == std::string::npos) return 0;
  return std::stol(summary.substr(summary.rfind('\n', at) + 1, at));
}

// The pid the file names (0 when none).
int pid_in(const std::filesystem::path& file) {
  int pid = 0;
  std::ifstream(file) >> pid;
  return pid;
}

}  // namespace

// The test: 20 HUP reloads of a WSGI app under wrk's load, and not one
// request fails (no non-2xx answer, no connect, read, write or timeout error).
// Under a sanitizer 5: what it looks for there (a bad access in a reload) each
// reload would show, and 20 took 73 s of ASan's and 53 s of TSan's CI time.
TEST(CliServeReload, TwentyHupReloadsUnderWrkFailNoRequest) {
  constexpr std::size_t reloads = scalekit::testing::sanitized ? 5 : 20;
  if (::access(wrk, X_OK) != 0) GTEST_SKIP() << "wrk is not installed (scripts/setup installs it)";
  serve_server server("-w 2 --pythonpath " + wsgi_fixtures + " --wsgi apps:hello");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  background_process load(wrk_command(server, "/"), "cli-serve-wrk");
  std::this_thread::sleep_for(300ms);
  for (std::size_t i = 1; i <= reloads; ++i) {
    ::kill(server.pid(), SIGHUP);
    const auto end = std::chrono::steady_clock::now() + 10s * scalekit::testing::sanitizer_slowdown;
    while (count_of(server.log(), "reload done") < i && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    ASSERT_EQ(count_of(server.log(), "reload done"), i) << server.log();
  }
  std::this_thread::sleep_for(300ms);
  ::kill(load.pid(), SIGINT);  // wrk stops and prints its summary
  ASSERT_TRUE(load.wait_exit(10s)) << "wrk did not stop";
  const std::string summary = load.out();
  EXPECT_GT(wrk_requests(summary), 1000) << summary << load.log();
  EXPECT_EQ(wrk_failures(summary), "") << summary;
  std::printf("%zu HUP reloads under wrk: %s", reloads, summary.substr(summary.find("Latency")).c_str());
  // An old worker counts as restarted when it has left, which may come after "reload done"
  // (it finishes its requests first; slower under the sanitizers).
  json s = server.status();
  const auto end = std::chrono::steady_clock::now() + 10s * scalekit::testing::sanitizer_slowdown;
  while (s["restarts"]["reload"] != 2 * reloads && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(50ms);
    s = server.status();
  }
  EXPECT_EQ(s["restarts"]["reload"], 2 * reloads) << s.dump();
  EXPECT_EQ(s["restarts"]["crash"], 0) << s.dump();
}

// USR2: a new master from the binary on disk takes over the listening socket,
// with as many workers as the old one had (a TTIN included); the old one stops
// once the new workers accept. Under wrk's load, no request fails and no
// connection is refused; /status and the pidfile name the new master.
TEST(CliServeReload, Usr2HandsTheSocketToANewMasterWithoutAFailedRequest) {
  if (::access(wrk, X_OK) != 0) GTEST_SKIP() << "wrk is not installed (scripts/setup installs it)";
  // The new master is orphaned when the old one leaves: we become its parent, to reap it.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  temp_dir dir("cli-serve-usr2");
  const auto pid_file = dir / "serve.pid";
  serve_server server("-w 2 --grace 5 --pid " + pid_file);
  const kill_group_at_end kill_what_is_left{server.pid()};
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const int old_master = server.pid();
  EXPECT_EQ(pid_in(pid_file), old_master);
  ::kill(old_master, SIGTTIN);
  ASSERT_TRUE(server.wait_until([](const json& s) { return ready_workers(s) == 3; })) << server.log();
  const json before = server.status();
  EXPECT_EQ(before["master_pid"], old_master) << before.dump();

  background_process load(wrk_command(server, "/primes?n=1000003"), "cli-serve-wrk");
  std::this_thread::sleep_for(500ms);
  ::kill(old_master, SIGUSR2);
  ASSERT_TRUE(server.wait_exit(20s)) << server.log();  // the old master leaves by itself
  EXPECT_EQ(server.exit_code(), 0) << server.log();
  const int new_master = pid_in(pid_file);
  EXPECT_GT(new_master, 0);
  EXPECT_NE(new_master, old_master);
  EXPECT_NE(server.log().find("upgrade: the new master (pid " + std::to_string(new_master) + ") is ready"),
            std::string::npos)
      << server.log();
  std::this_thread::sleep_for(500ms);  // the new workers alone serve the load a while
  ::kill(load.pid(), SIGINT);
  ASSERT_TRUE(load.wait_exit(10s)) << "wrk did not stop";
  const std::string summary = load.out();
  EXPECT_GT(wrk_requests(summary), 1000) << summary << load.log();
  EXPECT_EQ(wrk_failures(summary), "") << summary;
  std::printf("USR2 under wrk: %s", summary.substr(summary.find("Latency")).c_str());

  const json after = server.status();  // the same port, served by the new master's workers
  EXPECT_EQ(after["master_pid"], new_master) << after.dump();
  EXPECT_EQ(ready_workers(after), 3u) << after.dump();
  EXPECT_EQ(after["workers_wanted"], 3) << after.dump();
  for (const auto& w : after["workers"])
    EXPECT_EQ(pids(before).find(std::to_string(w["pid"].get<int>()) + " "), std::string::npos) << before.dump();

  // The new master stops as any master does, and removes the pidfile it wrote.
  ASSERT_EQ(::kill(new_master, SIGTERM), 0);
  int st = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 1000 && reaped == 0; ++i) {
    reaped = ::waitpid(new_master, &st, WNOHANG);
    if (reaped == 0) std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(reaped, new_master) << server.log();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_FALSE(std::filesystem::exists(pid_file));
}

// A new master that cannot start (here: its app no longer imports, found by
// --preload) ends, and the old master keeps serving with its workers.
TEST(CliServeReload, AFailedUpgradeLeavesTheOldMasterServing) {
  temp_dir dir("cli-serve-usr2-broken");
  std::ofstream(dir / "app.py") << "def app(environ, start_response):\n"
                                   "    start_response('200 OK', [])\n"
                                   "    return [b'old']\n";
  serve_server server("-w 1 --preload --chdir " + dir.path.string() + " --wsgi app:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string workers = pids(server.status());
  std::ofstream(dir / "app.py", std::ios::app) << "raise ImportError('broken on purpose')\n";
  ::kill(server.pid(), SIGUSR2);
  ASSERT_TRUE(server.wait_for_log("upgrade failed", 20s)) << server.log();
  EXPECT_NE(server.log().find("broken on purpose"), std::string::npos) << server.log();
  EXPECT_EQ(server.get("/"), "200\nold");
  const json s = server.status();
  EXPECT_EQ(s["master_pid"], server.pid()) << s.dump();
  EXPECT_EQ(pids(s), workers) << s.dump();
}

// A new master that never gets ready (here: its app's import hangs) held the
// sockets and refused every later USR2. Past --upgrade-timeout it is told to
// stop, the old master keeps serving, and a later USR2 upgrades.
TEST(CliServeReload, AnUpgradeNotReadyInTimeIsAbandoned) {
  temp_dir dir("cli-serve-usr2-hung");
  scalekit::testing::write_hang_marker_app(dir.path, "old");
  // 5 s: the later upgrade must be ready within it too, a Python worker's start
  // under ASan beside another test (2 s was not, on a loaded machine).
  serve_server server("-w 1 --grace 1 --upgrade-timeout 5 --chdir " + dir.path.string() + " --wsgi app:app");
  const kill_group_at_end kill_what_is_left{server.pid()};
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  std::ofstream(dir / "hang") << "";  // the new master's worker hangs at the import
  ::kill(server.pid(), SIGUSR2);
  ASSERT_TRUE(server.wait_for_log("is not ready after 5 s (--upgrade-timeout)", 20s)) << server.log();
  ASSERT_TRUE(server.wait_for_log("upgrade failed", 20s)) << server.log();
  EXPECT_EQ(server.get("/"), "200\nold");
  std::filesystem::remove(dir / "hang");
  scalekit::testing::write_hang_marker_app(dir.path, "new");
  ::kill(server.pid(), SIGUSR2);
  ASSERT_TRUE(server.wait_exit(30s)) << server.log();  // the old master leaves for the new one
  EXPECT_NE(server.log().find(") is ready: this one stops"), std::string::npos) << server.log();
  EXPECT_EQ(server.get("/"), "200\nnew");
  const int new_master = server.status()["master_pid"].get<int>();
  EXPECT_NE(new_master, server.pid());
  ::kill(new_master, SIGTERM);
}

// TERM to the old master while the new one is still starting: both stop (the
// new one held the sockets and served on alone).
TEST(CliServeReload, StoppingDuringAnUpgradeStopsTheNewMasterToo) {
  temp_dir dir("cli-serve-usr2-stop");
  scalekit::testing::write_hang_marker_app(dir.path, "old");
  serve_server server("-w 1 --grace 1 --chdir " + dir.path.string() + " --wsgi app:app");
  const kill_group_at_end kill_what_is_left{server.pid()};
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  std::ofstream(dir / "hang") << "";
  ::kill(server.pid(), SIGUSR2);
  ASSERT_TRUE(server.wait_for_log("USR2: new master pid ")) << server.log();
  const std::string log = server.log();
  const int new_master = new_master_pid(log);
  ::kill(server.pid(), SIGTERM);
  ASSERT_TRUE(server.wait_exit(10s)) << server.log();
  EXPECT_NE(server.log().find("this master stops: it is told to stop too"), std::string::npos) << server.log();
  bool gone = false;  // reaped by whoever inherits it, or a zombie of ours no more
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(new_master, 0) != 0;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "the new master " << new_master << " outlived the old one\n" << server.log();
  if (!gone) ::kill(new_master, SIGKILL);
}

// --preload: an app that cannot be imported stops the start at once with
// status 2 and its error, before any worker (or the port) is taken.
TEST(CliServeReload, PreloadRefusesABrokenAppWithStatus2) {
  background_process server(bin + " serve --listen 127.0.0.1:0 -w 2 --preload --pythonpath " + wsgi_fixtures +
                                " --wsgi broken_import:app",
                            "cli-serve-preload");
  ASSERT_TRUE(server.wait_exit(30s)) << server.log();
  EXPECT_EQ(server.exit_code(), 2) << server.log();
  const std::string log = server.log();
  EXPECT_NE(log.find("cannot load wsgi app 'broken_import:app': RuntimeError: broken on purpose"), std::string::npos)
      << log;
  EXPECT_NE(log.find("--preload"), std::string::npos) << log;
  EXPECT_EQ(log.find("listening on"), std::string::npos) << log;
}

// --preload and HUP: a reload whose app no longer imports is refused, and the
// workers keep the code they have; once the app is fixed, HUP reloads it.
TEST(CliServeReload, PreloadRefusesAReloadOfABrokenApp) {
  temp_dir dir("cli-serve-preload-hup");
  const auto write_app = [&](const std::string& text, const std::string& after = "") {
    std::ofstream(dir / "app.py") << "def app(environ, start_response):\n"
                                     "    start_response('200 OK', [])\n"
                                     "    return [b'"
                                  << text << "']\n"
                                  << after;
  };
  write_app("version 1");
  serve_server server("-w 2 --preload --chdir " + dir.path.string() + " --wsgi app:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("2 workers ready")) << server.log();
  const std::string workers = pids(server.status());
  write_app("version 2", "raise ImportError('broken on purpose')\n");
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(server.wait_for_log("reload refused", 20s)) << server.log();
  EXPECT_EQ(server.get("/"), "200\nversion 1");
  EXPECT_EQ(pids(server.status()), workers);
  write_app("version 3");
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(server.wait_for_log("reload done", 20s)) << server.log();
  EXPECT_EQ(server.get("/"), "200\nversion 3");
}
