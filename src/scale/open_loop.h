#pragma once
// An open-loop load generator on the core event loop (core/async.h): requests
// start on a schedule fixed before the first one is sent (a constant rate or
// Poisson arrivals), whatever the answers do, and each request's latency runs
// from its INTENDED start, not from when the generator got round to it. A slow
// server therefore cannot slow the load down and hide its own queueing (no
// coordinated omission).
//
// The generator reports on itself too, so that it is not mistaken for the
// bottleneck: its CPU time during the step (its process's: the loop's thread,
// and an executor's threads when requests go through one) and its
// schedule lag, how late each request actually started against its intended
// time. A lag that grows with the offered rate means the generator, not the
// server, is saturated.
//
//   auto times = open_loop::schedule(arrival::poisson, 2000, 1s, seed);
//   open_loop::step_result s;
//   open_loop::run_step(times, 1s, send_one, {.timeout = 1s}, s);
//   s.achieved_rate(); s.latency.percentile(0.99);
//
// Thread safety: run_step() runs its own loop on the calling thread. Its CPU
// figure is the whole process's, so run one step at a time.

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/stats.h"

namespace scalekit::scale::open_loop {

enum class arrival { constant, poisson };
/// "constant" or "poisson"; nullopt for anything else.
std::optional<arrival> parse_arrival(std::string_view s);
std::string_view to_string(arrival a);

/// The intended start of each request, as offsets from the start of the step,
/// ascending, all below `duration`: `rate` per second on average. constant: the
/// i-th at i/rate; poisson: exponential gaps of mean 1/rate (the same seed gives
/// the same times). Empty when rate or duration is not positive.
std::vector<std::chrono::nanoseconds> schedule(arrival a, double rate, std::chrono::nanoseconds duration,
                                               std::uint64_t seed);

/// One request: connect, send, read the answer. Returns true for a good answer
/// and false for an error answer or an I/O error (it must not throw for
/// those). The generator cancels it at its timeout (the awaitable is dropped
/// at a co_await: sockets it owns are closed by their destructors).
using request_fn = std::function<core::task<bool>()>;

struct step_options {
  std::chrono::nanoseconds timeout = std::chrono::seconds(1);  ///< per request, from its intended start
  /// Requests outstanding at once, at most: past it a request waits for a
  /// slot (and its latency, from the intended start, includes the wait;
  /// `held` counts them). It bounds the generator's sockets.
  std::size_t max_in_flight = 2000;
  /// Polled between requests; true stops sending (requests out are still awaited).
  std::function<bool()> stop{};
};

struct step_result {
  double duration_s = 0;        ///< the step's length (the schedule's duration)
  std::uint64_t scheduled = 0;  ///< requests in the schedule
  std::uint64_t sent = 0;       ///< requests started (fewer than scheduled when stopped)
  std::uint64_t ok = 0, errors = 0, timeouts = 0;
  std::uint64_t ok_in_window = 0;   ///< good answers that came within the step's span
  std::uint64_t held = 0;           ///< requests that waited for max_in_flight
  core::latency_histogram latency;  ///< good answers, from their intended start
  core::latency_histogram lag;      ///< every request sent: actual start - intended start
  double generator_cpu_s = 0;       ///< the calling process's user + system CPU during the step
  double elapsed_s = 0;             ///< from the step's start to its last answer or timeout

  [[nodiscard]] double offered_rate() const { return duration_s > 0 ? static_cast<double>(scheduled) / duration_s : 0; }
  /// Good answers within the step's span per second of it.
  [[nodiscard]] double achieved_rate() const {
    return duration_s > 0 ? static_cast<double>(ok_in_window) / duration_s : 0;
  }
};

/// Run the requests of `times` (schedule() over `duration`) against `send`,
/// each started at its intended time, and wait for every answer or timeout.
/// The step starts a millisecond after the call. Blocks the calling thread;
/// rethrows what the dispatcher throws (not the requests' errors: counted).
/// The figures go to `out`, which must be default-constructed (its histograms are atomics:
/// not movable, hence the out-parameter).
void run_step(const std::vector<std::chrono::nanoseconds>& times, std::chrono::nanoseconds duration,
              const request_fn& send, const step_options& o, step_result& out);

}  // namespace scalekit::scale::open_loop
