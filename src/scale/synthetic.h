#pragma once
// The `synthetic` workload: a job whose scaling is known in advance, to check
// that a sweep and its fit recover what was put in (issue 14's validation).
//
// One run is a job of W milliseconds of work split over the executor's N
// workers, each worker doing three things, as real synchronisation:
//   1. contention: its share σW/N of the serial work, holding one global lock
//      (the N holds queue behind each other);
//   2. its share (1 − σ)W/N of the parallel work;
//   3. coherency: an all-to-all exchange: it posts a message to every other
//      worker and processes the N − 1 messages it receives, each costing κW.
// The last worker through the lock finishes at σW + (1 − σ)W/N + κW(N − 1),
// so the run's speedup is N / (1 + σ(N − 1) + κN(N − 1)): the Universal
// Scalability Law with exactly the σ and κ injected.
//
// The work is waiting (sleeps to absolute deadlines, so a late wake-up does
// not add up over the phases), not computing: N workers can then run at once
// on a machine with fewer cores, and the curve shows the synchronisation
// alone. Runs on the serial and threads executors (the workers share memory).

#include <chrono>
#include <cstdint>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale {

struct synthetic_options {
  std::chrono::milliseconds work{300};  ///< W: the job's work on one worker
  double sigma = 0.05;                  ///< contention: the serial fraction
  double kappa = 0.01;                  ///< coherency: one exchange's cost, as a fraction of W
};

/// Registers the task the workers run (before any executor starts).
void register_synthetic_tasks();

/// One run on `ex` (its concurrency is N). invalid_argument for σ outside
/// [0, 1), κ outside [0, 1) or W outside 1 ms..10 min.
result<core::report> run_synthetic(const synthetic_options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::scale
