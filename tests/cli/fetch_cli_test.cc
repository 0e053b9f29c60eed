// Integration tests of `scalekit fetch` against a real local HTTP server.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::test_http_server;

TEST(CliFetch, OneLinePerUrlAndErrorsOfTheirOwn) {
  test_http_server http;
  ASSERT_FALSE(http.port().empty()) << http.log();
  const std::string urls = http.url("/bytes/12345") + " " + http.url("/status/404") + " " + http.url("/redirect/77") +
                           " " + http.url("/gzip/5000") + " http://127.0.0.1:1/ http://nonexistent.invalid/ ftp://x/y";
  const auto r = run_command(bin + " fetch --timeout 10 " + urls);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // three URLs got no response
  // Order is completion order; each URL has exactly one line.
  for (const auto& line : {std::string("Response for URL ") + http.url("/bytes/12345") + " => 200 12345\n",
                           "Response for URL " + http.url("/status/404") + " => 404 10\n",
                           "Response for URL " + http.url("/redirect/77") + " => 200 77\n",     // followed
                           "Response for URL " + http.url("/gzip/5000") + " => 200 5000\n"}) {  // decoded
    EXPECT_NE(r.out.find(line), std::string::npos) << line << r.out;
  }
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
  EXPECT_NE(r.err.find("http://127.0.0.1:1/: cannot connect"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("http://nonexistent.invalid/: no such host"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ftp://x/y: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 responses (1 with HTTP status >= 400), 3 failed"), std::string::npos) << r.err;
  // --fail turns the 404 into a failure too.
  EXPECT_EQ(run_command(bin + " -q fetch --fail " + http.url("/status/404")).exit_code, 1);
  EXPECT_EQ(run_command(bin + " -q fetch " + http.url("/status/404")).exit_code, 0);
}

TEST(CliFetch, TimeoutIsPerRequestAndTheOthersGoOn) {
  test_http_server http;
  ASSERT_FALSE(http.port().empty()) << http.log();
  const auto r = run_command(bin + " fetch --timeout 0.5 " + http.url("/hang") + " " + http.url("/bytes/3"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Response for URL " + http.url("/bytes/3") + " => 200 3\n");
  EXPECT_NE(r.err.find(http.url("/hang") + ": timed out after 0.5"), std::string::npos) << r.err;
}

// Twenty requests that each take 400 ms: fetched at once, they end together;
// one at a time (-j 1) they would take 8 s.
TEST(CliFetch, TransfersRunConcurrently) {
  test_http_server http;
  ASSERT_FALSE(http.port().empty()) << http.log();
  std::string urls, five;
  for (int i = 0; i < 20; ++i) urls += " " + http.url("/slow/400?" + std::to_string(i));
  for (int i = 0; i < 5; ++i) five += " " + http.url("/slow/400?" + std::to_string(i));
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_command(bin + " --json fetch" + urls);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["responses"], 20);
  EXPECT_EQ(j["results"].size(), 20u);
  EXPECT_LT(took, std::chrono::seconds(4)) << "the transfers did not overlap";
  const auto one = run_command(bin + " --json fetch -j 2" + five);  // 2 at once
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_GE(nlohmann::json::parse(one.out)["elapsed_s"].get<double>(), 1.1);  // three rounds of 400 ms
}

TEST(CliFetch, BadUsage) {
  EXPECT_EQ(run_command(bin + " fetch").exit_code, 2);
  EXPECT_EQ(run_command(bin + " fetch --timeout 0 http://x/").exit_code, 2);
}
