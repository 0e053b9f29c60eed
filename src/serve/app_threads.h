#pragma once
// A worker's application threads (--threads): a FIFO of blocking work that
// wakes a sleeping thread only when the work would otherwise wait.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scalekit::serve {

/// `threads` threads that run queued work in the order it came (FIFO).
///
/// Unlike core::thread_pool, which wakes a sleeping thread for every task,
/// a task queued while another thread is already running (or being woken)
/// waits for it: a quick request (a WSGI hello costs ~4 µs of Python under
/// the GIL) is then run by the thread that is already awake, instead of a
/// second thread being woken only to wait for the GIL (core::thread_pool at
/// --threads 4: about 4 context switches and 25-34 µs of CPU a request; this
/// pool: 1 and 20-21 µs; docs/BENCHMARKS.md, serve). So that slow work (a request that sleeps, or waits on a database)
/// never holds the others up for long, a watcher thread looks at the oldest
/// queued task and wakes a sleeping thread for each task that has waited
/// `patience`: a request behind a slow one waits at most about that long
/// for a thread of its own, as long as threads are free. At most `threads`
/// tasks run at once.
///
/// Thread-safe. The destructor closes the pool.
class app_threads {
 public:
  using clock = std::chrono::steady_clock;
  /// REQUIRES: threads > 0.
  explicit app_threads(std::size_t threads, std::chrono::microseconds patience = std::chrono::milliseconds(1));
  ~app_threads();
  app_threads(const app_threads&) = delete;
  app_threads& operator=(const app_threads&) = delete;

  /// Queue `task`. An exception it throws is dropped (give it its own error
  /// channel, as offload does). @throws core::pool_closed after close().
  void detach(std::function<void()> task);
  /// Stop taking tasks, run those queued, and join the threads.
  void close();

  /// Take one of the `threads` places for work the caller runs itself (the
  /// worker's loop_relay), if nothing waits and a place is free: false when
  /// the work should be queued (detach) instead. While claimed, the pool's
  /// own threads run at most `threads` - 1 tasks at once. REQUIRES: a true
  /// return is matched by one release().
  bool try_claim();
  void release();

 private:
  struct queued {
    std::function<void()> task;
    clock::time_point at;
  };
  void worker_loop();
  void watcher_loop();

  const std::size_t limit_;
  const std::chrono::microseconds patience_;
  // State below is protected by mutex_.
  std::mutex mutex_;
  std::condition_variable work_cv_;   // sleeping application threads
  std::condition_variable watch_cv_;  // the watcher, idle while nothing waits
  std::deque<queued> tasks_;
  std::size_t idle_ = 0;     // threads waiting on work_cv_
  std::size_t waking_ = 0;   // of those, notified and not yet awake
  std::size_t running_ = 0;  // threads running a task, and claimed places
  std::size_t claimed_ = 0;  // of those, claimed places (their work takes no task from the queue)
  bool watching_ = false;    // the watcher is timing the queue
  bool closing_ = false;
  std::vector<std::thread> threads_;
  std::thread watcher_;
};

}  // namespace scalekit::serve
