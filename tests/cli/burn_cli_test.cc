// Integration tests of `scalekit burn`: one busy loop per worker, on threads
// and on processes.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "cli_helpers.h"

using scalekit::testing::lines;
using scalekit::testing::run_scalekit;

TEST(CliBurn, EveryWorkerReportsThenTheTotal) {
  for (const char* ex : {"threads", "processes"}) {
    auto r = run_scalekit(std::string("burn --iterations 50000000 -j 2 --executor ") + ex);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(r.out), 3u) << r.out;
    EXPECT_NE(r.out.find("work took "), std::string::npos);
    std::istringstream in(r.out);
    std::string l1, l2;
    std::getline(in, l1);
    std::getline(in, l2);
    const auto pid = [](const std::string& l) { return l.substr(8, l.find(' ', 8) - 8); };
    if (std::string(ex) == "threads") {
      EXPECT_EQ(pid(l1), pid(l2)) << "threads share a process";
    } else {
      EXPECT_NE(pid(l1), pid(l2)) << "each worker is its own process";
    }
  }
}
