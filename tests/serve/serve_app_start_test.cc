// `scalekit serve` and its applications' start: one that takes seconds to
// import (the master says why no worker is ready yet; TERM during the start
// works; one that fails slowly stops the server), one deleted before a reload (the old workers keep serving).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "serve_helpers.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::count_of;
using scalekit::testing::serve_server;
using namespace std::chrono_literals;

// The master said nothing until the import ended: a start that looked hung.
// Now one line after 5 s; and TERM in the middle of the import stops it within --grace.
TEST(ServeAppStart, AnAppThatImportsForSecondsIsSaidAndTermStopsIt) {
  serve_server server("-w 1 --grace 2 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi slow_import:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_TRUE(server.wait_for_log("0 of 1 workers ready after 5 s", 7s)) << server.log();
  ::kill(server.pid(), SIGTERM);
  EXPECT_TRUE(server.wait_exit(2s + 3s)) << server.log();  // --grace, and a margin
  EXPECT_EQ(server.log().find("1 worker ready\n"), std::string::npos) << server.log();
}

// An app that fails at import after more than a second (a slow framework,
// a loaded machine): each death was counted as that of a worker that had
// started, so the master tried again for ever. A worker that dies before it
// is ever ready counts as failing to start, however long it took.
TEST(ServeAppStart, AnAppFailingSlowlyAtImportStopsTheServer) {
  scalekit::testing::temp_dir dir("serve-slow-fail");
  std::ofstream(dir / "slow_fail.py") << "import time\n"
                                         "time.sleep(1.5)\n"
                                         "raise RuntimeError('no configuration found')\n";
  background_process server(bin + " serve --listen 127.0.0.1:0 -w 1 --pythonpath " + dir.path.string() +
                                " --wsgi slow_fail:app",
                            "serve-slow-fail");
  ASSERT_TRUE(server.wait_exit(60s)) << server.log();
  EXPECT_EQ(server.exit_code(), 1) << server.log();
  EXPECT_NE(server.log().find("no configuration found"), std::string::npos) << server.log();
  EXPECT_NE(server.log().find("workers fail to start"), std::string::npos) << server.log();
}

// The app's module deleted between the start and a HUP: the new workers failed
// at import, and the reload was tried again for ever, a traceback every few
// seconds. Now the old workers keep serving and the reload is abandoned, said once.
TEST(ServeAppStart, AReloadOfAnAppDeletedMeanwhileIsAbandonedAndTheOldWorkersServe) {
  scalekit::testing::temp_dir dir("serve-gone-app");
  {
    std::ofstream f(dir / "gone_app.py");
    f << "def app(environ, start_response):\n"
         "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
         "    return [b'still here\\n']\n";
  }
  serve_server server("-w 1 --pythonpath " + dir.path.string() + " --wsgi gone_app:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  std::filesystem::remove_all(dir.path);
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(server.wait_for_log("reload abandoned", 15s)) << server.log();
  EXPECT_EQ(server.get("/"), "200\nstill here\n");
  const auto attempts = [&] { return count_of(server.log(), "[crash]"); };
  const std::size_t after = attempts();
  std::this_thread::sleep_for(2s);  // the longest backoff seen: a retry would have come
  EXPECT_EQ(attempts(), after) << server.log();
  EXPECT_EQ(server.get("/"), "200\nstill here\n");
}
