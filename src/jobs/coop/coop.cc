#include "scalekit/jobs/coop/coop.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "scalekit/core/cooperative.h"
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

result<core::report> run(const options& o, core::observer& obs) {
  if (o.limit < 1 || o.limit > max_limit)
    return status::invalid_argument("limit must be between 1 and " + std::to_string(max_limit) + ", not " +
                                    std::to_string(o.limit));
  const auto t0 = std::chrono::steady_clock::now();
  core::round_robin<std::uint64_t> scheduler;
  scheduler.add("square_mapper", square_mapper(number_generator(o.limit)));
  scheduler.add("prime_filter", prime_filter(number_generator(o.limit)));
  std::string trace;
  auto on_switch = [&](const std::string& name) { trace.append("Switching to task ").append(name).append("\n"); };
  auto on_result = [&](const std::string&, const std::uint64_t& v) {
    trace.append("Result=> ").append(std::to_string(v)).append("\n");
    if (trace.size() > (1 << 16)) {
      obs.output(trace);
      trace.clear();
    }
  };
  // The rounds in slices, to look at the stop token between them; the
  // scheduler goes on where the last slice ended, so the steps are the same.
  constexpr std::uint64_t rounds_per_slice = 1 << 16;
  std::optional<std::uint64_t> last_prime;
  for (std::uint64_t round = 0; round < o.limit; round += rounds_per_slice) {
    if (obs.stop_requested()) return status::cancelled("stopped");
    const auto rounds = static_cast<std::size_t>(std::min(rounds_per_slice, o.limit - round));
    auto results = o.trace ? scheduler.run(rounds, on_switch, on_result) : scheduler.run(rounds);
    if (const auto& found = results["prime_filter"]; !found.empty()) last_prime = found.back();
    obs.progress(round + rounds, o.limit, "rounds");
  }
  obs.output(trace);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  std::string tail = "Last prime=> " + (last_prime ? std::to_string(*last_prime) : std::string("none")) + "\n";
  char taken[64];
  std::snprintf(taken, sizeof taken, "Time taken=> %.6f\n", std::chrono::duration<double>(elapsed).count());
  obs.output(tail + taken);

  core::report r("coop");
  r.work = std::to_string(scheduler.get_switches()) + " switches between 2 generator tasks";
  r.elapsed = elapsed;
  r.items = static_cast<double>(scheduler.get_switches());
  r.unit = "switches";
  // The head says the switches; the output says the rest.
  r.add("switches", static_cast<std::uint64_t>(scheduler.get_switches()), "");
  r.add("limit", o.limit, "");
  if (last_prime) r.add("last_prime", *last_prime, "");
  return r;
}

}  // namespace scalekit::jobs::coop
