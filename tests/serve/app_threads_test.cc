// A serve worker's application threads: FIFO, at most --threads at once, and
// work behind a slow task gets a thread of its own after the pool's patience.

#include "app_threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include "scalekit/core/thread_pool.h"

using scalekit::serve::app_threads;
using namespace std::chrono_literals;

namespace {

// Polls until `pred` holds or 10 s pass (a generous bound: a lack of progress, not a timing).
template <typename Pred>
bool eventually(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST(AppThreads, RunsTasksInTheOrderTheyCame) {
  app_threads pool(1);
  std::mutex m;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i)
    pool.detach([&, i] {
      std::scoped_lock lock(m);
      order.push_back(i);
    });
  pool.close();  // runs what is queued
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(AppThreads, ATaskBehindASlowOneGetsAThreadOfItsOwn) {
  app_threads pool(2, 1ms);
  std::this_thread::sleep_for(50ms);  // both threads asleep, so the second task must be woken for
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> slow_started{false}, quick_ran{false};
  pool.detach([&, released] {
    slow_started = true;
    released.wait();
  });
  ASSERT_TRUE(eventually([&] { return slow_started.load(); }));
  pool.detach([&] { quick_ran = true; });  // the awake thread is stuck: the watcher must wake the other
  EXPECT_TRUE(eventually([&] { return quick_ran.load(); }));
  release.set_value();
}

TEST(AppThreads, NeverRunsMoreThanItsThreadsAtOnce) {
  for (const std::size_t threads : {1u, 2u, 4u}) {
    app_threads pool(threads, 100us);
    std::atomic<int> now{0}, most{0}, done{0};
    for (int i = 0; i < 40; ++i)
      pool.detach([&] {
        const int n = ++now;
        int m = most.load();
        while (n > m && !most.compare_exchange_weak(m, n)) {
        }
        std::this_thread::sleep_for(2ms);
        --now;
        ++done;
      });
    pool.close();
    EXPECT_EQ(done.load(), 40);
    EXPECT_LE(most.load(), static_cast<int>(threads));
    if (threads > 1) {
      EXPECT_GT(most.load(), 1) << "sleeping tasks should have been spread over the threads";
    }
  }
}

TEST(AppThreads, RefusesWorkAfterClose) {
  app_threads pool(2);
  pool.close();
  EXPECT_THROW(pool.detach([] {}), scalekit::core::pool_closed);
}
