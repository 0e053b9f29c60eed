#include "scalekit/jobs/factorial/factorial.h"

#include <gmp.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::factorial {

namespace {

// factorial.compute: payload u64 n; result n! in decimal.
constexpr const char* compute_task = "factorial.compute";

}  // namespace

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
  core::task_registry::global().add(compute_task, [](std::string_view payload) {
    core::wire_reader in(payload);
    const auto n = in.get<std::uint64_t>();
    in.expect_end();
    return factorial_decimal(n);
  });
}

result<core::report> run(const options& o, core::executor& ex, core::observer& obs) {
  const auto from = std::to_string(o.from), to = std::to_string(o.to);
  if (o.from > o.to) return status::invalid_argument("FROM (" + from + ") is larger than TO (" + to + ")");
  if (o.to > max_n) return status::invalid_argument("TO (" + to + ") is larger than " + std::to_string(max_n));
  if (o.to - o.from >= max_count)
    return status::invalid_argument("at most " + std::to_string(max_count) + " factorials at a time");
  std::vector<core::bytes> payloads;
  for (std::uint64_t n = o.from; n <= o.to; ++n) payloads.push_back(core::wire_writer().put(n).take());

  const core::cancel_on_stop stop_guard(ex, obs);
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t done = 0, failed = 0, digits = 0;
  std::string line;
  auto stream = ex.as_completed(compute_task, std::move(payloads));
  while (auto c = stream.next()) {
    const std::uint64_t n = o.from + c->index;
    if (!c->value.ok()) {
      // After a stop request the calls left are cancelled, as asked: not worth a line each.
      if (!obs.stop_requested()) obs.message(std::to_string(n) + "!: " + c->value.error().message());
      ++failed;
      continue;
    }
    digits += c->value.value().size();
    line.assign("Factorial of ").append(std::to_string(n)).append(" is ").append(c->value.value()).append("\n");
    obs.output(line);
    obs.progress(++done, stream.size(), "factorials");
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  if (obs.stop_requested()) return status::cancelled("stopped");

  core::report r("factorial");
  r.work = from + "! .. " + to + "!";
  r.elapsed = elapsed;
  r.items = static_cast<double>(o.to - o.from + 1);
  r.unit = "factorials";
  r.failures = failed;
  r.add("from", o.from, "");  // the head says these
  r.add("to", o.to, "");
  r.add("digits", digits, "{} digits");
  r.add("failed", failed, "{} failed");
  core::add_executor_fields(r, ex);
  return r;
}

}  // namespace scalekit::jobs::factorial
