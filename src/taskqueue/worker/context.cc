#include "context.h"

#include <algorithm>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>

#include "scalekit/taskqueue/ids.h"

namespace scalekit::taskqueue::detail {

using namespace std::chrono_literals;

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", s);
  return buf;
}

worker_context::worker_context(const worker_options& o, redis_endpoint ep, core::executor& ex, const log_fn& log,
                               std::uint64_t stop_after, const asio::any_io_executor& loop)
    : options(o),
      endpoint(std::move(ep)),
      executor(ex),
      concurrency(std::max<std::size_t>(1, ex.concurrency())),
      name(worker_name(o)),
      pop(loop, endpoint),
      cmd(loop, endpoint),
      restore(loop, endpoint),
      log_(log),
      stop_after_(stop_after),
      per_slot_(static_cast<std::size_t>(std::max(1, o.prefetch_multiplier))),
      slot_limit_(concurrency * per_slot_),
      slot_free_(loop),
      stopped_(loop, asio::steady_timer::time_point::max()) {
  task_events = o.task_events;
  for (const auto& [task, per_second] : o.rate_limits) rate_limits[task].per_second = per_second;
}

std::uint64_t worker_context::get_reconnects() const {
  const auto connects = pop.get_connects() + cmd.get_connects() + restore.get_connects();
  return connects > 3 ? connects - 3 : 0;
}

void worker_context::stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_time_ = steady_clock::now();
  stopped_.cancel();
  slot_free_.cancel();
  for (auto& [tag, timer] : sleepers_) timer->cancel();
}

core::task<void> worker_context::until_stopped() {
  asio::error_code ignored;
  co_await stopped_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

core::task<void> worker_context::nap(std::chrono::milliseconds d) {
  for (auto slept = 0ms; slept < d && !stopping_; slept += 100ms) co_await core::sleep_for(std::min(d - slept, 100ms));
}

core::task<void> worker_context::sleep_until(const std::string& tag, double until) {
  if (stopping_) co_return;
  const double seconds = std::clamp(until - celery::unix_now(), 0.0, 60.0);
  asio::steady_timer timer(co_await core::this_executor(),
                           std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(seconds)));
  sleepers_[tag] = &timer;
  asio::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  sleepers_.erase(tag);
}

std::size_t worker_context::resize_slots(long long n) {
  const long long limit = static_cast<long long>(slot_limit_) + n * static_cast<long long>(per_slot_);
  slot_limit_ = static_cast<std::size_t>(std::max<long long>(static_cast<long long>(per_slot_), limit));
  slot_free_.cancel();  // a fetcher waiting for a slot looks again
  return slot_limit_;
}

void worker_context::wake(const std::string& tag) {
  if (auto it = sleepers_.find(tag); it != sleepers_.end()) it->second->cancel();
}

void worker_context::broker_failed(const status& s) {
  if (!broker_down_) log_("broker unreachable (" + s.message() + "); retrying");
  broker_down_ = true;
}

void worker_context::broker_ok() {
  if (broker_down_) log_("broker reachable again");
  broker_down_ = false;
}

core::task<std::optional<std::vector<redis_reply>>> worker_context::must_run(redis_client& db,
                                                                             std::vector<std::vector<std::string>> cmds,
                                                                             bool until_stop) {
  auto backoff = 50ms;
  for (;;) {
    auto r = co_await db.pipeline(cmds);
    if (r.ok()) {
      broker_ok();
      co_return std::move(r).value();
    }
    broker_failed(r.error());
    if (until_stop && stopping_ && steady_clock::now() > hard_deadline()) co_return std::nullopt;
    co_await core::sleep_for(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
  }
}

steady_clock::time_point worker_context::hard_deadline() const { return stop_time_ + options.grace + 5s; }

void worker_context::take_slot() {
  ++busy_;
  ++alive_;
}

void worker_context::free_slot() {
  --busy_;
  slot_free_.cancel();
}

void worker_context::handle_ended() {
  --alive_;
  if (stop_after_ > 0 && stats.succeeded + stats.failed >= stop_after_) stop();
}

core::task<void> worker_context::wait_for_slot(std::chrono::milliseconds limit) {
  slot_free_.expires_after(limit);
  asio::error_code ignored;
  co_await slot_free_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

}  // namespace scalekit::taskqueue::detail
