// Integration tests of `scalekit factorial`: exact results, against Python.

#include <gtest/gtest.h>

#include <string>

#include "cli_helpers.h"

using scalekit::testing::lines;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;

// Real peer: Python's math.factorial, for the seed's range and for 1000!.
TEST(CliFactorial, ExactAndPrintedAsEachCompletes) {
  for (const char* ex : {"threads", "processes"}) {
    auto r = run_scalekit(std::string("factorial --executor ") + ex);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(r.out), 11u);
    EXPECT_NE(r.out.find("Factorial of 10 is 3628800\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Factorial of 20 is 2432902008176640000\n"), std::string::npos) << r.out;
  }
  auto ours = run_scalekit("factorial 1000 1000");
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto py = run_command("/usr/bin/python3 -c 'import math; print(\"Factorial of 1000 is\", math.factorial(1000))'");
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_TRUE(ours.out == py.out) << "1000! differs from Python's";
  EXPECT_EQ(run_scalekit("factorial 20 10").exit_code, 2);
  EXPECT_EQ(run_scalekit("factorial 5").exit_code, 2);
}
