#include "scalekit/core/limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

using namespace scalekit::core;

struct LimiterCase {
  limiter_kind kind;
  int threads;
};

class Limiter : public ::testing::TestWithParam<LimiterCase> {};

// Many threads race to save items; some items fail. Exactly `limit` succeed,
// never one more or one less, and every thread ends by itself.
TEST_P(Limiter, ExactlyNUnderContentionWithFailures) {
  constexpr std::uint64_t limit = 500;
  auto lim = make_limiter(GetParam().kind, limit);
  std::atomic<std::uint64_t> saved{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < GetParam().threads; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      while (auto slot = lim->acquire()) {
        if (rng() % 4 == 0) {  // a failed fetch/decode: the slot goes back
          failed++;
          continue;
        }
        saved++;
        slot->commit();
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(saved.load(), limit);
  EXPECT_EQ(lim->get_committed(), limit);
  EXPECT_GT(failed.load(), 0u);
  EXPECT_TRUE(lim->is_done());
}

TEST_P(Limiter, FailureOfTheLastInFlightItemLetsAWaiterIn) {
  auto lim = make_limiter(GetParam().kind, 1);
  auto first = lim->acquire();
  ASSERT_TRUE(first);
  EXPECT_FALSE(lim->try_acquire());  // the only slot is in flight
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto s = lim->acquire();
    if (s) {
      got = true;
      s->commit();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(got);
  first.reset();  // fails: releases
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(lim->acquire());  // done
}

TEST_P(Limiter, CloseWakesWaiters) {
  auto lim = make_limiter(GetParam().kind, 1);
  auto first = lim->acquire();
  std::thread waiter([&] { EXPECT_FALSE(lim->acquire()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  lim->close();
  waiter.join();
}

INSTANTIATE_TEST_SUITE_P(Kinds, Limiter,
                         ::testing::Values(LimiterCase{limiter_kind::lock, 1}, LimiterCase{limiter_kind::lock, 4},
                                           LimiterCase{limiter_kind::lock, 16}, LimiterCase{limiter_kind::semaphore, 1},
                                           LimiterCase{limiter_kind::semaphore, 4},
                                           LimiterCase{limiter_kind::semaphore, 16}),
                         [](const auto& p) {
                           return std::string(p.param.kind == limiter_kind::lock ? "lock" : "semaphore") + "_" +
                                  std::to_string(p.param.threads) + "threads";
                         });

TEST(LimiterKind, Parses) {
  EXPECT_EQ(parse_limiter_kind("lock"), limiter_kind::lock);
  EXPECT_EQ(parse_limiter_kind("semaphore"), limiter_kind::semaphore);
  EXPECT_EQ(parse_limiter_kind("mutex"), std::nullopt);
}
