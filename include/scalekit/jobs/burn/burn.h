#pragma once
// The burn job: the seed's MuchCPU (chapter 14). Each worker runs one busy loop
// of `iterations` steps and reports which process and thread ran it, to show
// that C++ threads, unlike CPython's, use every core: threads and processes
// scale alike.

#include <cstdint>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::burn {

/// Spin `iterations` times in a loop the optimizer cannot delete (~1 cycle a step).
void spin(std::uint64_t iterations) noexcept;

/// Register the job's task (burn.loop) in core::task_registry::global(): in
/// every process that may run it.
void register_tasks();

/// Most iterations a loop may take (about two weeks at a step a cycle).
inline constexpr std::uint64_t max_iterations = std::uint64_t{1} << 50;

struct options {
  std::uint64_t iterations = 200'000'000;  ///< steps of each worker's loop, 1..max_iterations
};

/// One loop per worker of `ex` (after executor::wait_ready(), so each worker
/// takes exactly one): an output line per loop as it finishes, "process P
/// thread T: S s", then "work took S seconds". A loop whose call failed is a
/// message and counts in report.failures.
///
/// Returns invalid_argument for iterations outside 1..max_iterations;
/// cancelled after a stop request (the executor is cancelled: worker processes
/// end at once; a thread runs its loop to the end).
/// The report: the executor's fields, iterations, and `workers`, one record
/// (pid, tid, seconds) per loop that finished.
/// Thread safety: one call per observer at a time.
result<core::report> run(const options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::jobs::burn
