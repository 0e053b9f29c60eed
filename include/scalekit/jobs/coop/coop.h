#pragma once
// The coop job: the seed's generator pipeline (chapter 5, generator_tasks.py)
// on core::generator and core::round_robin.

#include <cstdint>

#include "scalekit/core/generator.h"

namespace scalekit::jobs::coop {

/// 1, 2, ..., n.
core::generator<std::uint64_t> number_generator(std::uint64_t n);
/// Each number squared. @throws std::overflow_error past 2^64.
core::generator<std::uint64_t> square_mapper(core::generator<std::uint64_t> numbers);
/// The primes among the numbers (correct where the seed's filter lets 1 through).
core::generator<std::uint64_t> prime_filter(core::generator<std::uint64_t> numbers);

}  // namespace scalekit::jobs::coop
