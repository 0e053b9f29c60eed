#include "scalekit/jobs/factorial/factorial.h"

#include <gmp.h>

#include <stdexcept>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::factorial {

std::string factorial_decimal(std::uint64_t n) {
  if (n > max_n) throw std::invalid_argument("n! is only computed for n <= " + std::to_string(max_n));
  mpz_t f;
  mpz_init(f);
  mpz_fac_ui(f, static_cast<unsigned long>(n));  // GMP's own algorithm (prime-swing), exact
  std::string out(mpz_sizeinbase(f, 10) + 1, '\0');
  mpz_get_str(out.data(), 10, f);
  out.resize(std::char_traits<char>::length(out.c_str()));  // sizeinbase may overestimate by one
  mpz_clear(f);
  return out;
}

void register_tasks() {
  core::task_registry::global().add(factorial_task, [](std::string_view payload) {
    core::wire_reader in(payload);
    const auto n = in.get<std::uint64_t>();
    in.expect_end();
    return factorial_decimal(n);
  });
}

}  // namespace scalekit::jobs::factorial
