#include "scalekit/jobs/factorial/factorial.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <stop_token>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/process_pool.h"

namespace fa = scalekit::jobs::factorial;
using scalekit::core::collecting_observer;
using scalekit::core::executor_kind;

class FactorialOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  std::unique_ptr<scalekit::core::executor> make() { return scalekit::core::make_executor(GetParam(), {.jobs = 2}); }
};

// A line per factorial, exact, in any order (as each completes); the report
// counts the digits printed.
TEST_P(FactorialOnEveryExecutor, EveryFactorialExactOnceAsItCompletes) {
  auto ex = make();
  collecting_observer obs;
  auto r = fa::run({.from = 10, .to = 30}, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  std::istringstream in(obs.text());
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<std::string> expect;
  std::uint64_t digits = 0;
  for (std::uint64_t n = 10; n <= 30; ++n) {
    expect.push_back("Factorial of " + std::to_string(n) + " is " + fa::factorial_decimal(n));
    digits += fa::factorial_decimal(n).size();
  }
  std::sort(lines.begin(), lines.end());
  std::sort(expect.begin(), expect.end());
  EXPECT_EQ(lines, expect);
  EXPECT_NE(obs.text().find("Factorial of 20 is 2432902008176640000\n"), std::string::npos);
  EXPECT_TRUE(obs.messages().empty());
  EXPECT_EQ(r->failures, 0u);
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("digits")), digits);
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("tasks")), 21u);
  EXPECT_EQ(std::get<std::string>(*r->find("executor")), std::string(to_string(GetParam())));
  EXPECT_EQ(obs.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{21, 21}));
}

TEST_P(FactorialOnEveryExecutor, AStopBeforeTheStartPrintsNothing) {
  auto ex = make();
  std::stop_source source;
  source.request_stop();
  collecting_observer obs(source.get_token());
  auto r = fa::run({.from = 1, .to = 500}, *ex, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_EQ(obs.text(), "");
  EXPECT_TRUE(obs.messages().empty());
}

INSTANTIATE_TEST_SUITE_P(Executors, FactorialOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(to_string(p.param)); });

// The command line prints these words after "scalekit factorial: ".
TEST(FactorialJob, BadRangesAreInvalidArguments) {
  auto ex = scalekit::core::make_executor(executor_kind::serial);
  collecting_observer obs;
  auto expect_invalid = [&](fa::options o, const std::string& message) {
    auto r = fa::run(o, *ex, obs);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), scalekit::status_code::invalid_argument);
    EXPECT_EQ(r.error().message(), message);
  };
  expect_invalid({.from = 20, .to = 10}, "FROM (20) is larger than TO (10)");
  expect_invalid({.from = 1, .to = fa::max_n + 1}, "TO (1000001) is larger than 1000000");
  expect_invalid({.from = 1, .to = fa::max_count + 1}, "at most 100000 factorials at a time");
  EXPECT_EQ(obs.text(), "");
}

int main(int argc, char** argv) {
  fa::register_tasks();  // worker processes of the process executor run the job's task
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
