// loop_relay: work left by a handler runs on the thread that ran it, the
// loop's handlers never run on two threads at once, and work that blocks on
// the loop itself does not deadlock it (the second thread takes the loop).

#include "loop_relay.h"

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "app_threads.h"

using scalekit::serve::app_threads;
using scalekit::serve::loop_relay;
using namespace std::chrono_literals;

// Quick work runs on the handler's own thread, right after it, and the loop
// goes on without its second thread.
TEST(LoopRelay, QuickWorkRunsOnTheHandlersThread) {
  asio::io_context loop(1);
  std::atomic<std::uint64_t> rescues{0};
  loop_relay relay(&rescues);
  std::thread::id handler_thread, work_thread;
  int done = 0;
  for (int i = 0; i < 100; ++i) {
    asio::post(loop, [&] {
      ASSERT_FALSE(relay.busy());
      handler_thread = std::this_thread::get_id();
      relay.run_next([&] {
        work_thread = std::this_thread::get_id();
        ++done;
      });
      EXPECT_TRUE(relay.busy());
    });
    asio::post(loop, [&] { EXPECT_EQ(work_thread, handler_thread); });
  }
  relay.run(loop);
  EXPECT_EQ(done, 100);
  EXPECT_EQ(rescues.load(), 0u);
}

// Work that waits for a handler of the loop (a streamed body waiting for the
// loop to send its piece): the second thread takes the loop and runs it.
TEST(LoopRelay, WorkThatWaitsForTheLoopDoesNotDeadlockIt) {
  asio::io_context loop(1);
  std::atomic<std::uint64_t> rescues{0};
  loop_relay relay(&rescues);
  auto guard = asio::make_work_guard(loop);  // a server's loop always has work (its acceptors)
  std::promise<void> sent;
  bool answered = false;
  asio::post(loop, [&] {
    relay.run_next([&] {
      asio::post(loop, [&] {
        sent.set_value();
        guard.reset();
      });
      // A generous bound: without the relay's second thread this never comes.
      answered = sent.get_future().wait_for(20s) == std::future_status::ready;
    });
  });
  relay.run(loop);
  EXPECT_TRUE(answered);
  EXPECT_EQ(rescues.load(), 1u);
}

// Work that turns slow just after one of the watcher's looks holds the loop
// for one period from when it left it, not up to two (the watcher waits for
// the work's own period, not a period from its look, then takes the loop).
// A long period, so that the bound shows through the machine's scheduling.
TEST(LoopRelay, SlowWorkIsTakenOnePeriodAfterItLeftTheLoop) {
  using clock = std::chrono::steady_clock;
  constexpr auto period = 300ms;
  asio::io_context loop(1);
  std::atomic<std::uint64_t> rescues{0};
  loop_relay relay(&rescues, period);
  auto guard = asio::make_work_guard(loop);
  clock::time_point left, taken;
  std::promise<void> rescued;
  // Quick work until the watcher has looked once (it looks once a period
  // while work keeps leaving the loop), then work that waits for the loop.
  std::function<void()> handler = [&] {
    if (relay.TEST_looks() == 0) {
      relay.run_next([] {});
      asio::post(loop, handler);
      return;
    }
    left = clock::now();
    relay.run_next([&] {
      asio::post(loop, [&] {
        taken = clock::now();
        rescued.set_value();
        guard.reset();
      });
      (void)rescued.get_future().wait_for(20s);
    });
  };
  asio::post(loop, handler);
  relay.run(loop);
  EXPECT_EQ(rescues.load(), 1u);
  EXPECT_GE(taken - left, period);
  EXPECT_LT(taken - left, period * 3 / 2);  // two periods before (a generous margin either way)
}

// Handlers run one at a time, though the loop passes between two threads
// while work runs (some of it slow enough for the other thread to take the loop).
TEST(LoopRelay, HandlersNeverRunOnTwoThreadsAtOnce) {
  asio::io_context loop(1);
  loop_relay relay;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> ran{0};
  int handlers = 0;  // the loop's own state: no lock
  for (int i = 0; i < 2000; ++i) {
    asio::post(loop, [&, i] {
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      ++handlers;
      if (!relay.busy() && i % 3 == 0)
        relay.run_next([&, i] {
          if (i % 300 == 0) std::this_thread::sleep_for(5ms);
          ran.fetch_add(1);
        });
      inside.fetch_sub(1);
    });
  }
  relay.run(loop);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(handlers, 2000);
  EXPECT_GT(ran.load(), 0);
}

// A handler that throws stops the loop; run() rethrows it.
TEST(LoopRelay, AHandlersExceptionComesOutOfRun) {
  asio::io_context loop(1);
  loop_relay relay;
  auto guard = asio::make_work_guard(loop);  // the loop would run forever but for the exception
  asio::post(loop, [] { throw std::runtime_error("handler failed"); });
  EXPECT_THROW(relay.run(loop), std::runtime_error);
}

// A claimed place counts among --threads: the pool runs one task fewer at once.
TEST(AppThreadsClaim, AClaimedPlaceHoldsBackTheLastThread) {
  app_threads pool(1);
  ASSERT_TRUE(pool.try_claim());
  EXPECT_FALSE(pool.try_claim());  // no place left
  std::promise<void> ran;
  pool.detach([&] { ran.set_value(); });
  auto f = ran.get_future();
  EXPECT_EQ(f.wait_for(50ms), std::future_status::timeout);  // held back while claimed
  pool.release();
  EXPECT_EQ(f.wait_for(20s), std::future_status::ready);
  // The place comes back once the task's thread has done its bookkeeping
  // after the task (a moment after set_value: slow under ASan).
  bool claimed = false;
  for (const auto until = std::chrono::steady_clock::now() + 20s; !claimed && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(1ms))
    claimed = pool.try_claim();
  EXPECT_TRUE(claimed);
  pool.release();
}

// No place is claimed while every thread is busy.
TEST(AppThreadsClaim, NoPlaceIsClaimedWhileTheThreadsAreBusy) {
  app_threads pool(1);
  std::promise<void> go;
  auto gate = go.get_future().share();
  std::atomic<int> done{0};
  pool.detach([&, gate] {
    gate.wait();
    ++done;
  });
  pool.detach([&] { ++done; });  // waits behind the first
  EXPECT_FALSE(pool.try_claim());
  go.set_value();
  pool.close();
  EXPECT_EQ(done.load(), 2);
}
