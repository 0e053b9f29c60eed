#include "scalekit/jobs/coop/coop.h"

#include <stdexcept>

#include "scalekit/jobs/primes/primes.h"

namespace scalekit::jobs::coop {

core::generator<std::uint64_t> number_generator(std::uint64_t n) {
  for (std::uint64_t i = 1; i <= n; ++i) co_yield i;
}

core::generator<std::uint64_t> square_mapper(core::generator<std::uint64_t> numbers) {
  for (std::uint64_t n : numbers) {
    if (n > 4294967295ULL) throw std::overflow_error(std::to_string(n) + " squared does not fit in 64 bits");
    const std::uint64_t square = n * n;  // named: clang-format 14 mangles `co_yield n * n`
    co_yield square;
  }
}

core::generator<std::uint64_t> prime_filter(core::generator<std::uint64_t> numbers) {
  for (std::uint64_t n : numbers)
    if (primes::is_prime_fast(n)) co_yield n;
}

}  // namespace scalekit::jobs::coop
