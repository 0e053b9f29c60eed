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
#include <string>
#include <vector>

#include "scalekit/core/async.h"

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

}  // namespace scalekit::jobs::sleepers
