// The open-loop load generator (src/scale/open_loop.h): its schedules, and
// steps against services made of timers on the same loop, whose behaviour is
// known: a fast one (achieved = offered), a single-server queue (latency from
// the intended send time grows with the backlog: no coordinated omission),
// one that never answers (timeouts), one that fails (errors).

#include "open_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "proc_usage.h"

namespace ol = scalekit::scale::open_loop;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

scalekit::core::task<void> wait_until(clock_type::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

void expect_ordered(const ol::step_result& r) {
  const auto p50 = r.latency.percentile(0.5), p99 = r.latency.percentile(0.99), p999 = r.latency.percentile(0.999);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, r.latency.max());
}

}  // namespace

TEST(OpenLoop, ScheduleConstantIsEvenlySpacedOverTheDuration) {
  const auto t = ol::schedule(ol::arrival::constant, 1000, 1s, 1);
  ASSERT_EQ(t.size(), 1000u);
  EXPECT_EQ(t.front(), 0ns);
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_EQ(t[i] - t[i - 1], 1ms);
}

TEST(OpenLoop, SchedulePoissonHasTheRateOnAverageAndIsReproducible) {
  const auto t = ol::schedule(ol::arrival::poisson, 10000, 1s, 42);
  // 10000 expected, standard deviation 100: six of them either way.
  EXPECT_NEAR(static_cast<double>(t.size()), 10000, 600);
  EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  EXPECT_LT(t.back(), 1s);
  EXPECT_EQ(t, ol::schedule(ol::arrival::poisson, 10000, 1s, 42));
  EXPECT_NE(t, ol::schedule(ol::arrival::poisson, 10000, 1s, 43));
  // Exponential gaps: their standard deviation is their mean (a constant rate's is 0).
  double sum = 0, sq = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const double g = seconds(t[i] - t[i - 1]);
    sum += g;
    sq += g * g;
  }
  const double n = static_cast<double>(t.size() - 1), mean = sum / n;
  EXPECT_NEAR(std::sqrt(sq / n - mean * mean) / mean, 1.0, 0.1);
}

TEST(OpenLoop, ScheduleIsEmptyWithoutARateOrATime) {
  EXPECT_TRUE(ol::schedule(ol::arrival::constant, 0, 1s, 1).empty());
  EXPECT_TRUE(ol::schedule(ol::arrival::poisson, -5, 1s, 1).empty());
  EXPECT_TRUE(ol::schedule(ol::arrival::poisson, 100, 0s, 1).empty());
  EXPECT_EQ(ol::parse_arrival("poisson"), ol::arrival::poisson);
  EXPECT_EQ(ol::parse_arrival("constant"), ol::arrival::constant);
  EXPECT_FALSE(ol::parse_arrival("bursty"));
}

TEST(OpenLoop, AFastServiceGetsTheOfferedRate) {
  const auto times = ol::schedule(ol::arrival::constant, 500, 400ms, 1);
  ol::step_result r;
  ol::run_step(
      times, 400ms,
      []() -> scalekit::core::task<bool> {
        co_await scalekit::core::sleep_for(1ms);
        co_return true;
      },
      {}, r);
  EXPECT_EQ(r.scheduled, 200u);
  EXPECT_EQ(r.sent, 200u);
  EXPECT_EQ(r.ok, 200u);
  EXPECT_EQ(r.errors + r.timeouts, 0u);
  EXPECT_NEAR(r.offered_rate(), 500, 1e-9);
  EXPECT_NEAR(r.achieved_rate(), 500, 25);  // the last request or two answer after the step
  EXPECT_GE(r.latency.percentile(0.5), 1ms);
  EXPECT_EQ(r.lag.count(), 200u);
  EXPECT_GE(r.generator_cpu_s, 0);
  expect_ordered(r);
}

TEST(OpenLoop, LatencyRunsFromTheIntendedSendTimeSoAQueueShows) {
  // One server taking 10 ms per request (100/s), offered 200/s for 0.5 s: the
  // backlog grows to ~50 requests, so the last waits ~0.5 s. A closed-loop
  // client would have waited for each answer and reported 10 ms throughout.
  auto busy_until = std::make_shared<clock_type::time_point>();
  const auto times = ol::schedule(ol::arrival::constant, 200, 500ms, 1);
  ol::step_options o;
  o.timeout = 5s;
  ol::step_result r;
  ol::run_step(
      times, 500ms,
      [busy_until]() -> scalekit::core::task<bool> {
        const auto start = std::max(clock_type::now(), *busy_until);
        *busy_until = start + 10ms;
        co_await wait_until(*busy_until);
        co_return true;
      },
      o, r);
  EXPECT_EQ(r.ok, 100u);
  EXPECT_GT(r.latency.max(), 400ms);
  EXPECT_GT(r.latency.percentile(0.5), 100ms);
  EXPECT_LT(r.achieved_rate(), 0.9 * r.offered_rate());  // saturated, as the sweep would call it
  EXPECT_LT(r.lag.percentile(0.5), 5ms);                 // while the generator itself kept to its schedule
  expect_ordered(r);
}

TEST(OpenLoop, UnansweredRequestsAreTimeoutsAndFailedOnesErrors) {
  const auto times = ol::schedule(ol::arrival::constant, 100, 200ms, 1);
  ol::step_options o;
  o.timeout = 50ms;
  ol::step_result silent;
  ol::run_step(
      times, 200ms,
      []() -> scalekit::core::task<bool> {
        co_await scalekit::core::sleep_for(10s);
        co_return true;
      },
      o, silent);
  EXPECT_EQ(silent.timeouts, 20u);
  EXPECT_EQ(silent.ok + silent.errors, 0u);
  EXPECT_LT(silent.elapsed_s, 2.0);  // the sleeping requests were cancelled at their timeout

  int calls = 0;
  ol::step_result failing;
  ol::run_step(
      times, 200ms,
      [&calls]() -> scalekit::core::task<bool> {
        if (++calls % 2 == 0) throw std::runtime_error("reset");
        co_return false;
      },
      o, failing);
  EXPECT_EQ(failing.errors, 20u);
  EXPECT_EQ(failing.ok + failing.timeouts, 0u);
  EXPECT_EQ(failing.latency.count(), 0u);
  EXPECT_EQ(failing.achieved_rate(), 0);
}

TEST(OpenLoop, AFullWindowHoldsRequestsAndTheirWaitCounts) {
  const auto times = ol::schedule(ol::arrival::constant, 100, 100ms, 1);  // 10 requests, 10 ms apart
  ol::step_options o;
  o.max_in_flight = 1;
  o.timeout = 5s;
  ol::step_result r;
  ol::run_step(
      times, 100ms,
      []() -> scalekit::core::task<bool> {
        co_await scalekit::core::sleep_for(30ms);
        co_return true;
      },
      o, r);
  EXPECT_EQ(r.ok, 10u);
  EXPECT_GT(r.held, 0u);
  EXPECT_GT(r.latency.max(), 150ms);  // the last waited for the nine before it
}

TEST(OpenLoop, StopEndsTheSending) {
  const auto times = ol::schedule(ol::arrival::constant, 1000, 1s, 1);
  int polls = 0;
  ol::step_options o;
  o.stop = [&polls] { return ++polls > 10; };
  ol::step_result r;
  ol::run_step(
      times, 1s, []() -> scalekit::core::task<bool> { co_return true; }, o, r);
  EXPECT_EQ(r.sent, 10u);
  EXPECT_EQ(r.scheduled, 1000u);
  EXPECT_LT(r.elapsed_s, 0.5);
}

TEST(ProcUsage, ReadsThisProcessCpuAndSwitches) {
  const auto a = scalekit::scale::usage_of_tree(::getpid());
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x = x + 1e-9 * i;
  const auto b = scalekit::scale::usage_of_tree(::getpid());
  EXPECT_GE(a.processes, 1u);
  EXPECT_GT(b.cpu_s, a.cpu_s);
  EXPECT_GE(b.user_s + b.sys_s, a.user_s + a.sys_s);
  EXPECT_GT(b.voluntary_switches + b.involuntary_switches, 0u);
  EXPECT_EQ(scalekit::scale::usage_of_tree(0x7ffffff0).processes, 0u);
}
