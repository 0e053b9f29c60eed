#pragma once
// loop_relay: a worker's event loop on two threads, so that quick work (a
// WSGI hello) runs on the thread that read its request, between two of the
// loop's handlers, instead of being handed to an application thread and back
// (two wake-ups a request).
//
//   holder: loop.run_one() ── a handler left work (run_next) ──> runs it, the
//      ^                                                        loop left alone
//      └──── takes the loop back if nobody took it meanwhile <──────┘
//
//   the other thread watches: a loop left alone by one piece of work for
//   watch_period is taken by it, so work that turns out slow (a request that
//   sleeps, a streamed body that waits for the loop to send it) holds the
//   loop up for that long at most; the thread whose work ended finds the loop
//   taken and watches in its turn. The watcher looks once a watch_period
//   while work keeps leaving the loop (a look that finds work running sleeps
//   until that work's own watch_period is up, not a period from the look:
//   one look a period, not two, for the same bound). While no work leaves
//   the loop alone the watcher sleeps (one wake-up when work starts leaving
//   it again).
//
// Guarantees:
// - the loop's handlers never run on two threads at once: the loop passes
//   between threads under the relay's mutex (happens-before), so loop-only
//   state needs no lock, as with one loop thread;
// - at most one piece of work at a time (busy() until it has ended), so the
//   other thread is always free to take the loop;
// - work runs outside the loop's handlers: a handler that awaits it (offload)
//   has suspended, so its --timeout timer still fires on whichever thread
//   holds the loop, and its result is dropped when it comes.
//
// Thread safety: run_next() and busy() from the loop's handlers; run() once.

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace scalekit::serve {

class loop_relay {
 public:
  /// `rescues` (optional) counts the times the watcher took the loop;
  /// `period`: how long work may leave the loop alone (watch_period).
  explicit loop_relay(std::atomic<std::uint64_t>* rescues = nullptr, std::chrono::microseconds period = watch_period)
      : rescues_(rescues), period_(period) {}
  ~loop_relay();  ///< joins the second thread
  loop_relay(const loop_relay&) = delete;
  loop_relay& operator=(const loop_relay&) = delete;

  /// Run `loop` until it stops, on the calling thread and a second one, as
  /// above. Returns once the loop has stopped and this thread runs no work;
  /// work still running on the second thread ends on its own (the loop's
  /// outstanding calls wait for it). An exception from a handler stops the
  /// loop and is rethrown here.
  void run(asio::io_context& loop);

  /// Whether a piece of work is queued or running (run_next must wait).
  [[nodiscard]] bool busy() const;
  /// Run `work` on this thread once the current handler has returned.
  /// REQUIRES: called from a handler of the loop; !busy().
  void run_next(std::function<void()> work);

  /// How long one piece of work may leave the loop alone before the other
  /// thread takes it; the watcher looks about once a period while work runs.
  static constexpr std::chrono::microseconds watch_period{2000};

  /// The watcher's looks so far (wake-ups while work runs), for tests.
  [[nodiscard]] std::uint64_t TEST_looks() const;

 private:
  using clock = std::chrono::steady_clock;
  void relay(bool holding);
  bool run_one_handler();  // the holder's step; false: the loop stopped
  static void run_safely(std::function<void()>& work);

  std::atomic<std::uint64_t>* const rescues_;
  const std::chrono::microseconds period_;
  asio::io_context* loop_ = nullptr;
  std::thread second_;
  // State below is guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> next_;  // left by a handler for its thread
  bool working_ = false;        // next_ taken and running
  bool held_ = false;           // some thread holds the loop
  bool stopped_ = false;        // the loop has stopped
  bool watcher_asleep_ = false;
  std::uint64_t left_ = 0;      // times work left the loop alone
  clock::time_point left_at_;   // when it last did
  std::uint64_t looks_ = 0;     // the watcher's timed wake-ups
  std::exception_ptr failure_;  // from a handler
};

}  // namespace scalekit::serve
