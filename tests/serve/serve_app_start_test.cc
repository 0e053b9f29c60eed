// `scalekit serve` and its applications' start: one that takes seconds to
// import (the master says why no worker is ready yet; TERM during the start
// works).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "cli_helpers.h"
#include "serve_helpers.h"

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
  EXPECT_EQ(server.log().find("workers ready\n"), std::string::npos) << server.log();
}
