// Integration tests of `scalekit sleepers`: the seed's asyncio demos on the
// event loop.

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.h"

using scalekit::testing::run_scalekit;

TEST(CliSleepers, OutputInterleavesAsInTheSeed) {
  auto r = run_scalekit("sleepers --max-delay 0.3 --main-sleep 0.1 --step 0.005 --from 10 --to 20 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> l;
  std::istringstream in(r.out);
  for (std::string s; std::getline(in, s);) l.push_back(s);
  ASSERT_GE(l.size(), 14u);
  EXPECT_EQ(l[0], "Creating five tasks");
  EXPECT_EQ(l[1], "Sleeping after starting five tasks");  // spawned tasks start after the main task sleeps
  EXPECT_NE(l[2].find("0 sleeps for "), std::string::npos) << l[2];
  auto pos = [&](const std::string& s) { return std::find(l.begin(), l.end(), s) - l.begin(); };
  for (int i = 0; i < 5; ++i) EXPECT_LT(pos(std::to_string(i) + " awakens"), pos("Done five tasks"));
  EXPECT_LT(pos("Waking and waiting for five tasks"), pos("Done five tasks"));
  // The gathered coroutines alternate, then the gathered result.
  const auto p = pos("Prime=> 11");
  ASSERT_LT(p + 1, static_cast<long>(l.size()));
  EXPECT_EQ(l[static_cast<std::size_t>(p) + 1], "Square=> 100");
  EXPECT_EQ(l.back(), "Result=> [(11, 13, 17, 19), [100, 121, 144, 169, 196, 225, 256, 289, 324, 361, 400]]");
}
