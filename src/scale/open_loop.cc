// The open-loop generator (open_loop.h): a dispatcher coroutine that starts
// each request at its intended time, one coroutine per request racing its
// deadline, all on one loop thread.

#include "open_loop.h"

#include <sys/resource.h>

#include <asio/detached.hpp>
#include <random>
#include <variant>

namespace scalekit::scale::open_loop {

namespace {

using clock = std::chrono::steady_clock;
using core::operator||;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// The generating process's CPU: the loop's thread, and the threads of an
// executor its requests go through (core::async_call); the process does
// nothing else during a step.
double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// What the requests of one step share (all on the one loop thread).
struct step_state {
  const request_fn& send;
  const step_options& o;
  step_result& r;
  clock::time_point window_end;
  std::size_t in_flight = 0;
  asio::steady_timer slot;  // parked at "forever"; cancelled whenever a request ends
};

// The request with its exceptions as errors: the || below waits for the first
// operation to *succeed*, so a request that threw would otherwise count as a
// timeout, and only once its timer ran out.
core::task<bool> guarded(const request_fn& send) {
  try {
    co_return co_await send();
  } catch (const std::exception&) {
    co_return false;
  }
}

core::task<void> one_request(step_state& s, clock::time_point intended) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer deadline(ex, intended + s.o.timeout);
  int outcome = 0;  // 1 good, 0 error, -1 timed out
  try {
    auto v = co_await (guarded(s.send) || deadline.async_wait(as_tuple));
    outcome = v.index() == 1 ? -1 : (std::get<0>(v) ? 1 : 0);
  } catch (const std::exception&) {
    outcome = 0;  // the timer's own failure (allocation): an error, not a hang
  }
  const auto done = clock::now();
  if (outcome > 0) {
    ++s.r.ok;
    s.r.latency.record(done - intended);
    if (done <= s.window_end) ++s.r.ok_in_window;
  } else if (outcome == 0) {
    ++s.r.errors;
  } else {
    ++s.r.timeouts;
  }
  --s.in_flight;
  s.slot.cancel();
}

core::task<void> dispatcher(const std::vector<std::chrono::nanoseconds>& times, step_state& s, clock::time_point t0) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto wait_for_slot = [&]() -> core::task<void> {
    s.slot.expires_at(clock::time_point::max());
    co_await s.slot.async_wait(as_tuple);
  };
  for (const auto offset : times) {
    if (s.o.stop && s.o.stop()) break;
    const auto intended = t0 + std::chrono::duration_cast<clock::duration>(offset);
    if (s.in_flight >= s.o.max_in_flight) {
      ++s.r.held;
      while (s.in_flight >= s.o.max_in_flight) co_await wait_for_slot();
    }
    if (clock::now() < intended) {
      timer.expires_at(intended);
      co_await timer.async_wait(as_tuple);
    }
    s.r.lag.record(clock::now() - intended);
    ++s.in_flight;
    ++s.r.sent;
    asio::co_spawn(ex, one_request(s, intended), asio::detached);
  }
  while (s.in_flight > 0) co_await wait_for_slot();
}

}  // namespace

std::optional<arrival> parse_arrival(std::string_view s) {
  if (s == "constant") return arrival::constant;
  if (s == "poisson") return arrival::poisson;
  return std::nullopt;
}

std::string_view to_string(arrival a) { return a == arrival::constant ? "constant" : "poisson"; }

std::vector<std::chrono::nanoseconds> schedule(arrival a, double rate, std::chrono::nanoseconds duration,
                                               std::uint64_t seed) {
  std::vector<std::chrono::nanoseconds> out;
  if (!(rate > 0) || duration.count() <= 0) return out;
  const double span = static_cast<double>(duration.count());
  const double gap = 1e9 / rate;
  out.reserve(static_cast<std::size_t>(span / gap) + 1);
  if (a == arrival::constant) {
    for (std::uint64_t i = 0;; ++i) {
      const double at = static_cast<double>(i) * gap;
      if (at >= span) break;
      out.emplace_back(static_cast<std::int64_t>(at));
    }
    return out;
  }
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> next(rate / 1e9);  // per nanosecond
  for (double at = next(rng); at < span; at += next(rng)) out.emplace_back(static_cast<std::int64_t>(at));
  return out;
}

void run_step(const std::vector<std::chrono::nanoseconds>& times, std::chrono::nanoseconds duration,
              const request_fn& send, const step_options& o, step_result& r) {
  // REQUIRES r fresh: its counters and histograms start at zero.
  r.scheduled = times.size();
  asio::io_context ctx(1);
  const auto t0 = clock::now() + std::chrono::milliseconds(1);
  r.duration_s = std::chrono::duration<double>(duration).count();
  step_state s{send, o,
               r,    t0 + std::chrono::duration_cast<clock::duration>(duration),
               0,    asio::steady_timer(ctx, clock::time_point::max())};
  std::exception_ptr error;
  const double cpu0 = process_cpu_s();
  asio::co_spawn(ctx, dispatcher(times, s, t0), [&](std::exception_ptr e) { error = e; });
  ctx.run();
  core::wait_for_calls(ctx);  // requests on an executor (core::async_call) may still be leaving
  r.generator_cpu_s = process_cpu_s() - cpu0;
  r.elapsed_s = std::chrono::duration<double>(clock::now() - t0).count();
  if (error) std::rethrow_exception(error);
}

}  // namespace scalekit::scale::open_loop
