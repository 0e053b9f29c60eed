// Integration tests of serve's master: recycling's floor and jitter, the ids
// in its log, sd_notify during reloads, signals it owns. The real master and
// workers, real clients (tests/fixtures/serve_client.py), real signals.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "serve_helpers.h"

using scalekit::testing::serve_server;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

// --max-rss below what a fresh worker holds: the master says so once, and
// recycles with a floor and a backoff instead of restarting without pause
// (it gave 133 restarts in 3 s); the server keeps answering throughout.
TEST(CliServeMaster, MaxRssBelowAFreshWorkerBacksOff) {
  serve_server server("-w 1 --max-rss 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(server.get("/healthz"), "200\nok\n") << server.log();
    std::this_thread::sleep_for(250ms);
  }
  const json s = server.status();
  const int restarts = s["restarts"]["max_rss"].get<int>();
  EXPECT_GE(restarts, 1) << server.log();
  EXPECT_LE(restarts, 4) << server.log();
  EXPECT_EQ(count(server.log(), "is below a fresh worker's size"), 1u) << server.log();
}
