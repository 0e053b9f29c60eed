#pragma once
// Event-loop tasks: standalone Asio with C++20 coroutines, the core's answer to
// asyncio (the seed's sleepers and asyncio_tasks, and later every service).
//
//   core::task<int> answer() { co_await core::sleep_for(10ms); co_return 42; }
//   int v = core::run_until_complete(answer());            // loop.run_until_complete
//   auto h = core::spawn(co_await core::this_executor(), t); // asyncio.ensure_future
//   co_await h.join();                                       // await the spawned task
//   auto [a, b] = co_await (f() && g());                     // asyncio.gather (awaitable_operators)
//
// A loop runs its tasks in one thread; a task switches only at co_await.
// Include this header only where coroutines are written: Asio is heavy.

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "scalekit/core/executor.h"

namespace scalekit::core {

template <typename T = void>
using task = asio::awaitable<T>;

using asio::experimental::awaitable_operators::operator&&;
using asio::experimental::awaitable_operators::operator||;

/// The executor of the loop running the calling task.
inline auto this_executor() { return asio::this_coro::executor; }

/// Suspend the calling task for `d`; other tasks of the loop run meanwhile.
task<void> sleep_for(std::chrono::nanoseconds d);

/// A task started with spawn(): join() waits for it and rethrows its exception.
class task_handle {
 public:
  task<void> join();
  [[nodiscard]] bool done() const noexcept { return state_->done; }

 private:
  friend task_handle spawn(const asio::any_io_executor& ex, task<void> t);
  struct state {
    explicit state(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
    bool done = false;
    std::exception_ptr error;
    asio::steady_timer wake;  // parked at "forever"; cancelled when the task ends
  };
  std::shared_ptr<state> state_;
};

/// Start `t` on `ex`; it runs when the loop gets to it (after the caller's next co_await).
task_handle spawn(const asio::any_io_executor& ex, task<void> t);

namespace detail {
// The async_calls of one loop whose completion may still post to it: a loop
// must not be destroyed while any is left (wait_for_calls).
class outstanding_calls : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit outstanding_calls(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}
  void begin() {
    std::scoped_lock lock(mutex_);
    ++count_;
  }
  void end() {
    std::scoped_lock lock(mutex_);
    if (--count_ == 0) none_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    none_.wait(lock, [&] { return count_ == 0; });
  }

 private:
  void shutdown() override {}
  std::mutex mutex_;
  std::condition_variable none_;
  std::size_t count_ = 0;  // guarded by mutex_
};
}  // namespace detail

/// Run one call on `ex` (a thread pool, worker processes...) and resume the
/// calling task with its result on its own loop: the seed's run_in_executor.
/// The loop thread never runs the call. A loop that may be stopped with calls
/// still running must wait_for_calls() before it is destroyed.
/// `stop`, when given, can stop the call where the executor can (task_call::stop).
inline task<result<bytes>> async_call(executor& ex, std::string name, bytes payload,
                                      std::shared_ptr<call_stop> stop = nullptr) {
  auto loop = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(result<bytes>)>(
      // (stop is an argument, not an init-capture: GCC 12 destroys an
      // init-capture made from a coroutine's parameter twice.)
      [&ex, loop](auto handler, std::string n, bytes p, std::shared_ptr<call_stop> st) {
        // The completion runs on some executor thread: hand the result back to the loop.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        // Outstanding work keeps the loop running until post() has fully
        // returned on the executor's thread; without it the loop could finish
        // and be destroyed while post() is still signalling it. The count
        // covers a loop that was stopped instead (see wait_for_calls).
        auto guard = std::make_shared<asio::executor_work_guard<asio::any_io_executor>>(loop);
        auto& calls = asio::use_service<detail::outstanding_calls>(asio::query(loop, asio::execution::context));
        calls.begin();
        std::vector<task_call> batch;
        batch.push_back(task_call{std::move(n), std::move(p), no_affinity, std::move(st)});
        ex.dispatch(std::move(batch), [h, loop, guard, &calls](std::size_t, result<bytes> r) mutable {
          // The handler (the suspended task) now lives only in the posted
          // function, which the loop runs or, stopped, destroys with itself.
          asio::post(loop, [h = std::move(h), r = std::move(r)]() mutable { (*h)(std::move(r)); });
          guard->reset();
          calls.end();  // last: the loop may be destroyed from here on
        });
      },
      asio::use_awaitable, std::move(name), std::move(payload), std::move(stop));
}

/// Block until every async_call started on `ctx` has handed its result back
/// (posted to the loop, run or not). Call it after ctx.run() returned because
/// of ctx.stop(), before `ctx` is destroyed, and cancel the executors first so
/// the wait is short. Thread-safe.
inline void wait_for_calls(asio::io_context& ctx) { asio::use_service<detail::outstanding_calls>(ctx).wait(); }

/// Run `main` on a fresh one-thread loop until it completes; its value, or its exception.
template <typename T>
T run_until_complete(task<T> main) {
  asio::io_context loop(1);
  std::optional<T> value;
  std::exception_ptr error;
  asio::co_spawn(loop, std::move(main), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) value.emplace(std::move(v));
  });
  loop.run();
  wait_for_calls(loop);  // the last call's completion may still be leaving
  if (error) std::rethrow_exception(error);
  return std::move(*value);
}

void run_until_complete(task<void> main);

}  // namespace scalekit::core
