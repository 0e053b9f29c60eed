#include "scalekit/core/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace scalekit::core;
using namespace std::chrono_literals;

TEST(RateLimiter, ParsesUnits) {
  EXPECT_DOUBLE_EQ(rate_limiter::parse("120/min").value().per_second, 2.0);
  EXPECT_DOUBLE_EQ(rate_limiter::parse("5/s").value().per_second, 5.0);
  EXPECT_DOUBLE_EQ(rate_limiter::parse("7").value().per_second, 7.0);
  EXPECT_DOUBLE_EQ(rate_limiter::parse("3600/h").value().per_second, 1.0);
  EXPECT_FALSE(rate_limiter::parse("0/s").ok());
  EXPECT_FALSE(rate_limiter::parse("-1/s").ok());
  EXPECT_FALSE(rate_limiter::parse("abc").ok());
  EXPECT_FALSE(rate_limiter::parse("5/fortnight").ok());
}

// Several producers share one limiter: the total rate is the limiter's, not
// the producers' sum. Counted, not timed: within 0.4 s at 100/s at most 41
// pass (40 slots and the edge); a loaded machine may wake sleepers late, so
// the lower bound only checks steady progress.
void check_rate(int producers) {
  rate_limiter lim(rate{100.0});
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&] {
      while (lim.acquire()) {
        if (std::chrono::steady_clock::now() - t0 < 400ms) passed++;
      }
    });
  std::this_thread::sleep_for(450ms);
  lim.close();
  for (auto& t : threads) t.join();
  EXPECT_GE(passed.load(), 30);
  EXPECT_LE(passed.load(), 41);
}

TEST(RateLimiter, Producers1) { check_rate(1); }
TEST(RateLimiter, Producers4) { check_rate(4); }
TEST(RateLimiter, Producers16) { check_rate(16); }

TEST(RateLimiter, CloseWakesSleepers) {
  rate_limiter lim(rate{1.0 / 3600});
  ASSERT_TRUE(lim.acquire());  // the first slot is free
  std::thread t([&] { EXPECT_FALSE(lim.acquire()); });
  std::this_thread::sleep_for(20ms);
  lim.close();
  t.join();
}

TEST(RateLimiter, TryAcquireDoesNotWait) {
  rate_limiter lim(rate{1.0});
  EXPECT_TRUE(lim.try_acquire());
  EXPECT_FALSE(lim.try_acquire());
}
