#pragma once
// thread_pool: a fixed set of threads that run callables, the base of the
// threads executor and of every job's local parallelism.
//
//   detach(f)  -> runs f later; an exception is counted and kept, see get_detached_error()
//   submit(f)  -> [[nodiscard]] std::future<R>; an exception comes back through the future
//   wait()     -> blocks until everything queued so far has run
//
// Scheduling contract: tasks start in FIFO order but may run in any thread and
// concurrently; the caller may not assume they are serialized.
// Thread safety: all member functions are thread-safe. Calling wait() from a task
// of the same pool would deadlock, so it throws wait_deadlock instead.
// Shutdown is RAII: the destructor runs every queued task, then joins.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "scalekit/core/spin_mutex.h"

namespace scalekit::core {

/// Thrown by thread_pool::wait() when called from one of the pool's own threads.
struct wait_deadlock : std::logic_error {
  wait_deadlock() : std::logic_error("thread_pool::wait() called from a task of the same pool") {}
};

/// Thrown by detach/submit after close().
struct pool_closed : std::logic_error {
  pool_closed() : std::logic_error("thread_pool is closed") {}
};

class thread_pool {
 public:
  /// @param threads number of threads; 0 means std::thread::hardware_concurrency().
  explicit thread_pool(std::size_t threads = 0);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Queue f() to run on some pool thread. @throws pool_closed after close().
  template <typename F>
  void detach(F&& f) {
    enqueue(std::function<void()>(std::forward<F>(f)));
  }

  /// Queue f() and return a future for its result (or its exception).
  template <typename F, typename R = std::invoke_result_t<std::decay_t<F>>>
  [[nodiscard]] std::future<R> submit(F&& f) {
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    std::future<R> fut = task->get_future();
    enqueue([task] { (*task)(); });
    return fut;
  }

  /// Run f(i) for i in [begin, end), split into about threads*4 chunks, and wait.
  /// The first exception thrown by any f(i) is rethrown after all chunks end.
  void parallel_for(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& f);

  /// Block until the queue is empty and no task is running.
  /// @throws wait_deadlock when called from a task of this pool.
  void wait();

  /// Stop accepting tasks, run what is queued, join the threads. Idempotent.
  void close();

  /// Drop the tasks not yet started (their futures get broken_promise), let the
  /// running ones finish, join. Idempotent. Returns how many were dropped.
  std::size_t terminate();

  [[nodiscard]] std::size_t get_thread_count() const noexcept { return thread_count_; }
  [[nodiscard]] std::size_t get_tasks_queued() const;
  /// How many detached tasks threw, and the first exception (null when none).
  [[nodiscard]] std::uint64_t get_detached_failures() const;
  [[nodiscard]] std::exception_ptr get_detached_error() const;

  /// True when the calling thread belongs to any thread_pool.
  static bool in_pool_thread() noexcept;

 private:
  void enqueue(std::function<void()> task);
  void worker_loop();
  void join_all();

  const std::size_t thread_count_;
  std::vector<std::thread> threads_;
  // A spin lock: pushes and pops hold it for a few instructions, and a mutex
  // under contention from a tiny-task producer spends its time in futex calls.
  mutable spin_mutex mutex_;
  std::condition_variable_any work_cv_;
  std::condition_variable_any idle_cv_;
  // State below is protected by mutex_.
  std::deque<std::function<void()>> tasks_;
  std::size_t running_ = 0;
  std::size_t sleeping_ = 0;  // workers waiting on work_cv_: notify only when someone sleeps
  std::size_t waiters_ = 0;   // callers blocked in wait()
  bool closing_ = false;
  std::uint64_t detached_failures_ = 0;
  std::exception_ptr detached_error_;
};

}  // namespace scalekit::core
