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

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
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

/// factor(n, a) as one primes.factor call on `ex`, for a service answering one
/// number at a time on a shared executor (serve's /primes on the distributed
/// workers). The call's error when it failed. Thread-safe as `ex` is.
result<std::vector<std::uint64_t>> factor_on(core::executor& ex, std::uint64_t n, algorithm a = algorithm::fast);

/// Register the job's tasks (primes.check, primes.factor) in
/// core::task_registry::global(): in every process that may run them.
void register_tasks();

/// What `primes check` and `primes factor` work on. The inputs, gathered in
/// this order: the numbers as text, the file's lines, the seed's list, random
/// numbers. At least one must be given.
struct options {
  /// Decimal numbers as given; a bad one is named "argument <i+1>".
  std::vector<std::string> numbers;
  /// One number per line, blank lines skipped; a bad one is named "<file>:<line>".
  /// "-": standard input (named "stdin"). Empty: no file.
  std::string file;
  bool seed_list = false;  ///< the seed's thousand numbers (seed_list())
  /// This many random numbers, uniform in [random_min, random_max], from a
  /// Mersenne Twister (mt19937_64) seeded with random_seed: the same numbers
  /// for the same seed.
  std::uint64_t random_count = 0;
  std::uint64_t random_min = 100000, random_max = 50000000, random_seed = 0;
  algorithm alg = algorithm::fast;
  /// Numbers per task. 0: automatic (about 32 tasks per worker, at most 4096
  /// numbers each); small batches balance the load but cost a dispatch each.
  std::size_t batch = 0;
};

/// `primes check`: one output line per good number, "N is prime" or "N is not
/// prime" (check_line), in input order, streamed as the finished prefix grows.
/// Progress in numbers.
///
/// Bad inputs (not a number, negative, past 2^64-1) are each a message ("argument 2:
/// 'abc': not a number", "n.txt:3: 'seven\r': not a number": invisible
/// characters escaped, at most 40 shown, core::printable; the first 20, then
/// "... and N more bad inputs") and count in
/// report.failures, as do the numbers of a batch whose task failed; the rest go
/// on. Returns invalid_argument when no input is given or random_min >
/// random_max; not_found "cannot read 'F': no such file or directory";
/// io_error when the file cannot be read or is not a regular file
/// (checked before reading: a FIFO, a device, a directory) or a read fails;
/// too_large "<file>:<line>: a line longer than 4096 bytes" (nothing is
/// output then); cancelled after a stop request (the observer's stop token),
/// within a second: the gathering checks it, and `ex` is cancelled
/// (executor::cancel(), for good).
/// Memory: the gathered numbers, then about 256 batches per worker at a time;
/// random numbers are drawn as the batches need them.
/// The report: numbers, prime, bad_inputs, failed, algorithm and the executor's fields.
/// Thread safety: one call per observer at a time.
result<core::report> check(const options& o, core::executor& ex, core::observer& obs);

/// `primes factor`: "The factors of N are [a, b, ...]" (factor_line) for each
/// good number, in input order. Everything else as check(); `prime` counts the
/// numbers whose only factor is themselves.
result<core::report> factor(const options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::jobs::primes
