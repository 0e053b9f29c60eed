#include "scalekit/core/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

using namespace scalekit::core;
using namespace std::chrono_literals;

TEST(BoundedQueue, RejectsZeroCapacity) { EXPECT_THROW(bounded_queue<int>(0), std::invalid_argument); }

TEST(BoundedQueue, TryPushFailsWhenFullAndTryPopWhenEmpty) {
  bounded_queue<int> q(2);
  std::optional<int> out;
  EXPECT_EQ(q.try_pop(out), queue_op::empty);
  EXPECT_EQ(q.try_push(1), queue_op::ok);
  EXPECT_EQ(q.try_push(2), queue_op::ok);
  EXPECT_EQ(q.try_push(3), queue_op::full);
  EXPECT_EQ(q.try_pop(out), queue_op::ok);
  EXPECT_EQ(*out, 1);  // FIFO
}

TEST(BoundedQueue, TimeoutsExpire) {
  bounded_queue<int> q(1);
  std::optional<int> out;
  EXPECT_EQ(q.pop_for(out, 20ms), queue_op::timeout);
  ASSERT_TRUE(q.push(1));
  EXPECT_EQ(q.push_for(2, 20ms), queue_op::timeout);
}

TEST(BoundedQueue, CloseDrainsThenEnds) {
  bounded_queue<int> q(4);
  q.push(1);
  q.push(2);
  q.close();
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.try_push(3), queue_op::closed);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), std::nullopt);
  std::optional<int> out;
  EXPECT_EQ(q.try_pop(out), queue_op::closed);
}

TEST(BoundedQueue, CloseWakesBlockedProducersAndConsumers) {
  bounded_queue<int> full(1), empty(1);
  full.push(0);
  std::atomic<int> woke{0};
  std::thread producer([&] {
    if (!full.push(1)) ++woke;
  });
  std::thread consumer([&] {
    if (!empty.pop()) ++woke;
  });
  std::this_thread::sleep_for(20ms);
  full.close();
  empty.close();
  producer.join();
  consumer.join();
  EXPECT_EQ(woke, 2);
}

// Every item pushed by P producers is popped exactly once by C consumers, and
// the consumers end by themselves after close().
void check_mpmc(int producers, int consumers, std::size_t capacity) {
  constexpr int per_producer = 20000;
  bounded_queue<int> q(capacity);
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(producers * per_producer));
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c)
    threads.emplace_back([&] {
      while (auto v = q.pop()) seen[static_cast<std::size_t>(*v)].fetch_add(1);
    });
  std::vector<std::thread> prods;
  for (int p = 0; p < producers; ++p)
    prods.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) ASSERT_TRUE(q.push(p * per_producer + i));
    });
  for (auto& t : prods) t.join();
  q.close();
  for (auto& t : threads) t.join();
  for (auto& s : seen) ASSERT_EQ(s.load(), 1);
}

TEST(BoundedQueue, Mpmc1x1) { check_mpmc(1, 1, 1); }
TEST(BoundedQueue, Mpmc4x4) { check_mpmc(4, 4, 8); }
TEST(BoundedQueue, Mpmc8x2) { check_mpmc(8, 2, 64); }
