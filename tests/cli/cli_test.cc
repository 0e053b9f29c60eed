// Integration tests of the whole program: the real scalekit binary, as a user
// runs it (version, help, usage errors). Each job's own tests are in
// <job>_cli_test.cc beside this file.

#include <gtest/gtest.h>

#include <string>

#include "cli_helpers.h"

using scalekit::testing::run_scalekit;

TEST(Cli, VersionAndHelp) {
  auto v = run_scalekit("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("scalekit ", 0), 0u) << v.out;
  auto h = run_scalekit("mandelbrot --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--executor"), std::string::npos);
  auto none = run_scalekit("");
  EXPECT_EQ(none.exit_code, 2);
  auto unknown = run_scalekit("no-such-command");
  EXPECT_EQ(unknown.exit_code, 2);
}
