#pragma once
// The factorial job: the seed's concurrent.futures example (chapter 5):
// submit each factorial to an executor, print each as it completes.
// Exact big integers through GMP.

#include <cstdint>
#include <string>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::factorial {

/// Largest n accepted: n! then has about 5.6 million digits.
inline constexpr std::uint64_t max_n = 1'000'000;
/// Most factorials one run computes.
inline constexpr std::uint64_t max_count = 100'000;

/// n! in decimal. @throws std::invalid_argument when n > max_n.
std::string factorial_decimal(std::uint64_t n);

/// Register the job's task (factorial.compute) in core::task_registry::global():
/// in every process that may run it.
void register_tasks();

struct options {
  std::uint64_t from = 10;  ///< the first n
  std::uint64_t to = 20;    ///< the last n, at most max_n, and at most max_count past `from`
};

/// One call per n in from..to on `ex`; an output line "Factorial of N is X"
/// as each completes (in completion order). A failed call is a message
/// ("N!: why") and counts in report.failures; the rest go on.
///
/// Returns invalid_argument for from > to, to > max_n or more than max_count
/// factorials; cancelled after a stop request (the executor is cancelled).
/// The report: from, to, digits (printed in all), failed, the executor's fields.
/// Thread safety: one call per observer at a time.
result<core::report> run(const options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::jobs::factorial
