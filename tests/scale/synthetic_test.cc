// The synthetic workload through its entry: its run takes at least the time
// the Universal Scalability Law gives for the injected σ and κ (deadlines
// make that a lower bound), it checks its options, and a stop ends it.

#include "synthetic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"

using scalekit::core::executor_kind;
using scalekit::scale::run_synthetic;
using scalekit::scale::synthetic_options;

namespace {

const bool registered = [] {
  scalekit::scale::register_synthetic_tasks();
  return true;
}();

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TEST(Synthetic, ARunTakesTheTimeTheLawGivesAtLeast) {
  ASSERT_TRUE(registered);
  const synthetic_options o{std::chrono::milliseconds(120), 0.1, 0.02};
  for (const std::size_t n : {1, 3, 6}) {
    auto ex = scalekit::core::make_executor(n == 1 ? executor_kind::serial : executor_kind::threads, {.jobs = n});
    scalekit::core::observer quiet;
    auto r = run_synthetic(o, *ex, quiet);
    ASSERT_TRUE(r.ok()) << r.error().message();
    const double w = 0.120, law = w * 0.1 + w * 0.9 / static_cast<double>(n) + w * 0.02 * static_cast<double>(n - 1);
    EXPECT_GE(seconds(r->elapsed), law * 0.99) << n;   // the deadlines make the law a lower bound
    EXPECT_LT(seconds(r->elapsed), law * 5 + 1) << n;  // and the run does not hang
    EXPECT_EQ(r->failures, 0u);
    EXPECT_EQ(r->items, 1);
  }
}

TEST(Synthetic, BadOptionsAndExecutorsAreRefused) {
  auto threads = scalekit::core::make_executor(executor_kind::threads, {.jobs = 2});
  scalekit::core::observer quiet;
  EXPECT_FALSE(run_synthetic({std::chrono::milliseconds(10), 1.0, 0.0}, *threads, quiet).ok());
  EXPECT_FALSE(run_synthetic({std::chrono::milliseconds(10), 0.1, -0.5}, *threads, quiet).ok());
  EXPECT_FALSE(run_synthetic({std::chrono::milliseconds(0), 0.1, 0.01}, *threads, quiet).ok());
  auto openmp = scalekit::core::make_executor(executor_kind::openmp, {.jobs = 2});
  auto r = run_synthetic({std::chrono::milliseconds(10), 0.1, 0.01}, *openmp, quiet);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("serial and threads"), std::string::npos) << r.error().message();
}

TEST(Synthetic, AStopEndsALongRunPromptly) {
  auto ex = scalekit::core::make_executor(executor_kind::threads, {.jobs = 3});
  std::stop_source source;
  scalekit::core::observer obs(source.get_token());
  std::jthread stopper([&source] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    source.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_synthetic({std::chrono::minutes(5), 0.1, 0.01}, *ex, obs);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}
