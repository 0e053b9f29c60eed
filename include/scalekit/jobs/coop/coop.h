#pragma once
// The coop job: the seed's generator pipeline (chapter 5, generator_tasks.py)
// on core::generator and core::round_robin.

#include <cstdint>

#include "scalekit/core/generator.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::coop {

/// 1, 2, ..., n.
core::generator<std::uint64_t> number_generator(std::uint64_t n);
/// Each number squared. @throws std::overflow_error past 2^64.
core::generator<std::uint64_t> square_mapper(core::generator<std::uint64_t> numbers);
/// The primes among the numbers (correct where the seed's filter lets 1 through).
core::generator<std::uint64_t> prime_filter(core::generator<std::uint64_t> numbers);

/// Largest limit: the squares of 1..max_limit fit in 64 bits.
inline constexpr std::uint64_t max_limit = 4294967295;

struct options {
  std::uint64_t limit = 10000;  ///< the numbers 1..limit, 1..max_limit
  bool trace = false;           ///< an output line for every task switch and every result, as the seed prints
};

/// The seed's scheduler: square_mapper and prime_filter over 1..limit, one
/// step each per round, for `limit` rounds, on the calling thread (the
/// cooperative scheduler is the job's nature: it takes no executor). Output
/// lines: with `trace`, "Switching to task <name>" before each step and
/// "Result=> <value>" after each value; then "Last prime=> <p>" ("none" when
/// there is none) and "Time taken=> <seconds>". Progress in rounds.
///
/// Returns invalid_argument for a limit outside 1..max_limit; cancelled after
/// a stop request (looked at every 65536 rounds).
/// The report: switches (values yielded), limit, last_prime (when there is one).
/// Thread safety: one call per observer at a time.
result<core::report> run(const options& o, core::observer& obs);

}  // namespace scalekit::jobs::coop
