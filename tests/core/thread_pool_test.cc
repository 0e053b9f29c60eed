#include "scalekit/core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

using namespace scalekit::core;
using namespace std::chrono_literals;

class ThreadPool : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ThreadPool, RunsEveryTaskOnceAndWaitReturns) {
  thread_pool pool(GetParam());
  std::atomic<int> n{0};
  for (int i = 0; i < 10000; ++i) pool.detach([&] { n.fetch_add(1, std::memory_order_relaxed); });
  pool.wait();
  EXPECT_EQ(n.load(), 10000);
}

TEST_P(ThreadPool, SubmitReturnsValuesAndExceptions) {
  thread_pool pool(GetParam());
  auto ok = pool.submit([] { return 42; });
  auto bad = pool.submit([]() -> int { throw std::runtime_error("nope"); });
  EXPECT_EQ(ok.get(), 42);
  EXPECT_THROW(bad.get(), std::runtime_error);
}

TEST_P(ThreadPool, DetachedExceptionsAreCountedNotLost) {
  thread_pool pool(GetParam());
  pool.detach([] { throw std::runtime_error("first"); });
  pool.detach([] { throw std::runtime_error("second"); });
  pool.wait();
  EXPECT_EQ(pool.get_detached_failures(), 2u);
  EXPECT_NE(pool.get_detached_error(), nullptr);
}

TEST_P(ThreadPool, ParallelForCoversTheRange) {
  thread_pool pool(GetParam());
  std::vector<std::atomic<int>> hits(1001);
  pool.parallel_for(0, hits.size(), [&](std::size_t i) { hits[i]++; });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST_P(ThreadPool, DestructorRunsQueuedWork) {
  std::atomic<int> n{0};
  {
    thread_pool pool(GetParam());
    for (int i = 0; i < 100; ++i)
      pool.detach([&] {
        std::this_thread::sleep_for(100us);
        n++;
      });
  }
  EXPECT_EQ(n.load(), 100);
}

TEST_P(ThreadPool, TerminateDropsQueuedWorkAndBreaksFutures) {
  thread_pool pool(GetParam());
  std::atomic<bool> release{false};
  std::atomic<std::size_t> started{0};
  std::vector<std::future<void>> blockers;
  for (std::size_t i = 0; i < GetParam(); ++i)
    blockers.push_back(pool.submit([&] {
      started++;
      while (!release) std::this_thread::sleep_for(1ms);
    }));
  while (started < GetParam()) std::this_thread::sleep_for(1ms);  // every thread is now busy
  auto queued = pool.submit([] { return 1; });
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    release = true;
  });
  EXPECT_GE(pool.terminate(), 1u);
  releaser.join();
  for (auto& b : blockers) EXPECT_NO_THROW(b.get());  // running work finished
  EXPECT_THROW(queued.get(), std::future_error);      // queued work dropped, not hung
  EXPECT_THROW(pool.detach([] {}), pool_closed);
}

TEST_P(ThreadPool, WaitFromInsideThrows) {
  thread_pool pool(GetParam());
  auto f = pool.submit([&] { pool.wait(); });
  EXPECT_THROW(f.get(), wait_deadlock);
}

// A deadlock is a lack of progress: poll a counter and fail if it stalls.
TEST_P(ThreadPool, ProducersFromManyThreadsMakeProgress) {
  thread_pool pool(GetParam());
  std::atomic<long> done{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p)
    producers.emplace_back([&] {
      for (int i = 0; i < 50000; ++i) pool.detach([&] { done.fetch_add(1, std::memory_order_relaxed); });
    });
  long last = -1;
  while (done.load() < 200000) {
    std::this_thread::sleep_for(200ms);
    ASSERT_NE(done.load(), last) << "no progress: deadlock";
    last = done.load();
  }
  for (auto& t : producers) t.join();
  pool.wait();
  EXPECT_EQ(done.load(), 200000);
}

INSTANTIATE_TEST_SUITE_P(Threads, ThreadPool, ::testing::Values(1, 2, 4, 8),
                         [](const auto& p) { return std::to_string(p.param) + "threads"; });
