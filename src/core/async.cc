#include "scalekit/core/async.h"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>

namespace scalekit::core {

task<void> sleep_for(std::chrono::nanoseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

task<void> task_handle::join() {
  if (!state_->done) {
    asio::error_code ec;  // operation_aborted: the task ended and cancelled the wait
    co_await state_->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (state_->error) std::rethrow_exception(state_->error);
}

namespace {
// co_spawn from inside the loop would start the task at once (dispatch); like
// asyncio.ensure_future, a spawned task should first let the caller run on to
// its next co_await. One post() to the loop does that.
task<void> start_later(task<void> t) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_await std::move(t);
}
}  // namespace

task_handle spawn(const asio::any_io_executor& ex, task<void> t) {
  task_handle h;
  h.state_ = std::make_shared<task_handle::state>(ex);
  asio::co_spawn(ex, start_later(std::move(t)), [s = h.state_](std::exception_ptr e) {
    s->done = true;
    s->error = e;
    s->wake.cancel();
  });
  return h;
}

void run_until_complete(task<void> main) {
  asio::io_context loop(1);
  std::exception_ptr error;
  asio::co_spawn(loop, std::move(main), [&](std::exception_ptr e) { error = e; });
  loop.run();
  wait_for_calls(loop);  // the last call's completion may still be leaving
  if (error) std::rethrow_exception(error);
}

}  // namespace scalekit::core
