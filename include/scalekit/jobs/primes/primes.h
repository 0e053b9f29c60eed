#pragma once
// The primes job: the seed's prime checker (chapter 5: threads vs a process
// pool) and prime_factor (chapter 14: Pool.map), for every unsigned 64-bit
// number, on any executor.
//
// Two algorithms:
// - fast (default): deterministic Miller-Rabin (seven bases, exact for all of
//   2^64) and Pollard-Brent rho, in Montgomery arithmetic on 128-bit products.
// - trial: trial division by 2 and the odd numbers up to sqrt(n), the seed's
//   CPU-bound workload kept for scaling studies. Below 2^53 the divisibility test
//   is an exact floating-point division, vectorized (see primes.cc); above, a
//   64-bit remainder. Unlike the seed's is_prime, 0, 1 and 4 are not prime.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/simd_target.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::primes {

enum class algorithm { fast, trial };
std::optional<algorithm> parse_algorithm(std::string_view name);

bool is_prime_fast(std::uint64_t n) noexcept;
bool is_prime_trial(std::uint64_t n) noexcept;
inline bool is_prime(std::uint64_t n, algorithm a) noexcept {
  return a == algorithm::fast ? is_prime_fast(n) : is_prime_trial(n);
}

/// Prime factors, ascending, with multiplicity. As the seed's prime_factor:
/// factor(0) is {0} and factor(1) is {1}.
std::vector<std::uint64_t> factor_fast(std::uint64_t n);
std::vector<std::uint64_t> factor_trial(std::uint64_t n);
inline std::vector<std::uint64_t> factor(std::uint64_t n, algorithm a) {
  return a == algorithm::fast ? factor_fast(n) : factor_trial(n);
}

/// Smallest odd divisor d of n with from <= d <= limit, or 0 when none.
/// REQUIRES from odd, from >= 3. The trial algorithm's kernel.
std::uint64_t smallest_odd_divisor(std::uint64_t n, std::uint64_t from, std::uint64_t limit) noexcept;
/// The same on a given vector target (for tests). REQUIRES t usable, n < 2^53.
std::uint64_t smallest_odd_divisor_on(core::simd_target t, std::uint64_t n, std::uint64_t from,
                                      std::uint64_t limit) noexcept;
/// floor(sqrt(n)), exact for every 64-bit n.
std::uint64_t isqrt(std::uint64_t n) noexcept;

/// A decimal unsigned 64-bit number, optionally surrounded by blanks. The error
/// says why not: "not a number", "negative", "larger than 18446744073709551615".
result<std::uint64_t> parse_number(std::string_view token);

/// The seed's thousand numbers: ten large ones, repeated 100 times.
std::vector<std::uint64_t> seed_list();

/// "N is prime" / "N is not prime" (no newline).
std::string check_line(std::uint64_t n, bool prime);
/// "The factors of N are [a, b, ...]" (no newline).
std::string factor_line(std::uint64_t n, const std::vector<std::uint64_t>& factors);

inline constexpr const char* check_task = "primes.check";
inline constexpr const char* factor_task = "primes.factor";
/// Register primes.check and primes.factor in core::task_registry::global().
void register_tasks();

/// Payloads and results of the tasks (a batch of numbers per call).
std::string encode_batch(algorithm a, const std::uint64_t* numbers, std::size_t count);
/// primes.check result: one byte (0/1) per number. primes.factor result: per
/// number, a u32 count then the factors as u64.
std::vector<std::vector<std::uint64_t>> decode_factors(std::string_view result, std::size_t count);

}  // namespace scalekit::jobs::primes
