#pragma once
// The primes job's tasks and their wire format, private to the job: a batch of
// numbers per call.
//
//   payload:              u8 algorithm, u64 count, count x u64 numbers
//   primes.check result:  one byte (0/1) per number
//   primes.factor result: per number, a u32 count then the factors as u64

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/jobs/primes/primes.h"

namespace scalekit::jobs::primes {

inline constexpr const char* check_task = "primes.check";
inline constexpr const char* factor_task = "primes.factor";

/// The payload of a call on `count` numbers.
std::string encode_batch(algorithm a, const std::uint64_t* numbers, std::size_t count);

/// The factor lists of a primes.factor result on `count` numbers.
/// @throws core::wire_error when the result is not one.
std::vector<std::vector<std::uint64_t>> decode_factors(std::string_view result, std::size_t count);

}  // namespace scalekit::jobs::primes
