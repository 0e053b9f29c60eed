// Integration tests of `scalekit coop`: the seed's cooperative scheduler.

#include <gtest/gtest.h>

#include <string>

#include "cli_helpers.h"

using scalekit::testing::run_scalekit;

TEST(CliCoop, LastPrimeAndTheSwitchingTrace) {
  auto r = run_scalekit("coop 100");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "Last prime=> 97");
  EXPECT_NE(r.out.find("Time taken=> "), std::string::npos);
  auto t = run_scalekit("coop 10 --trace");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string start =
      "Switching to task square_mapper\nResult=> 1\nSwitching to task prime_filter\nResult=> 2\n"
      "Switching to task square_mapper\n";
  EXPECT_EQ(t.out.substr(0, start.size()), start);
  EXPECT_NE(t.out.find("Last prime=> 7\n"), std::string::npos);
}
