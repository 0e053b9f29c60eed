#pragma once
// The sleepers job: the seed's asyncio examples on the core event loop.
// - five_sleepers (chapter 14): tasks sleep random times while the main task
//   sleeps, then waits for them all.
// - asyncio_tasks (chapter 5): prime_filter and square_mapper coroutines that
//   sleep after each item, gathered at the end; their output interleaves.
// Lines go to `out` as they happen.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::sleepers {

using line_fn = std::function<void(const std::string&)>;

struct five_options {
  int tasks = 5;
  double max_delay_s = 5.0;   ///< each task sleeps random() * max_delay, as the seed
  double main_sleep_s = 2.0;  ///< the main task's own sleep before it waits
  std::uint64_t seed = 0;     ///< 0: random
};

/// "Creating five tasks", "<i> sleeps for X seconds", "<i> awakens", ... "Done five tasks".
core::task<void> five_sleepers(five_options o, line_fn out);

/// "Prime=> p" / "Square=> s" interleaved, then "Result=> [(p, ...), [s, ...]]".
core::task<void> primes_and_squares(std::uint64_t m, std::uint64_t n, std::chrono::nanoseconds step, line_fn out);

/// Python's list and tuple reprs: "[1, 2]" and "(1, 2)" ("(1,)" for one item).
std::string python_list(const std::vector<std::uint64_t>& v);
std::string python_tuple(const std::vector<std::uint64_t>& v);

/// Which demos run: five_sleepers, primes_and_squares, or the one then the other.
enum class demo { five, tasks, both };
/// "five", "tasks", "both"; nullopt for another name.
std::optional<demo> parse_demo(std::string_view name);
std::string_view to_string(demo d);

/// Largest `to`: the squares stay far from 64 bits, the output from a flood.
inline constexpr std::uint64_t max_to = 1'000'000;

struct options {
  demo which = demo::both;
  five_options five;
  double step_s = 0.1;               ///< prime_filter/square_mapper's sleep after each item (the seed: 1.0)
  std::uint64_t from = 10, to = 50;  ///< primes_and_squares's numbers, from <= to <= max_to
};

/// The demos on a fresh one-thread event loop (the loop is the job's nature:
/// it takes no executor), each line an output line as it happens: five_sleepers
/// then "Done five tasks" ("Done N tasks" for another count), then
/// primes_and_squares.
///
/// Returns invalid_argument when from > to or to > max_to; cancelled after a
/// stop request, at once (the loop stops where it is; sleepers still asleep
/// never wake).
/// The report: the demo that ran.
/// Thread safety: one call per observer at a time; each call has a loop of its own.
result<core::report> run(const options& o, core::observer& obs);

}  // namespace scalekit::jobs::sleepers
