#pragma once
// One measured run of a sweep point, in a process of its own.
//
// Why a child process per run (fork, no exec): the figures a point reports are
// process-wide and would otherwise leak from one point into the next:
// - the peak RSS (ru_maxrss) of a process only ever grows;
// - RUSAGE_CHILDREN counts a worker process only once it has been reaped;
// - an OpenMP team outlives its parallel region, its threads spinning or
//   sleeping in the runtime, and malloc keeps the arenas of threads that
//   ended: both would weigh on the points measured after an OpenMP or a
//   threaded one.
// The child builds the executor, waits until it is ready (process-pool workers
// started), runs the job through its library entry, closes the executor and
// sends its figures to the parent through a pipe. The sweep's own process
// stays single-threaded apart from the signal waiter, so fork is safe.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"
#include "scalekit/scale/sweep_plan.h"
#include "workloads.h"

namespace scalekit::scale {

/// The tasks of one run and the time inside their bodies, in seconds: the
/// job's report fields that core::add_executor_fields sets (tasks,
/// task_p50_s, task_p99_s, task_p999_s, task_max_s), or for a distributed
/// run the fleet's workers' (fleet.h). NaN when nothing timed them.
struct task_latency {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  std::uint64_t tasks = 0;
  double p50 = none, p99 = none, p999 = none, max = none;
};

/// The task latency a job's report carries (see task_latency).
task_latency task_latency_of(const core::report& rep);

/// What one run measured.
struct point_sample {
  double wall_s = 0;  ///< the job's call, from entry to return (executor start and close excluded)
  double items = 0;   ///< the job's report.items
  std::string unit;   ///< the job's report.unit
  /// CPU of the run's process from just before the job's call to after the
  /// executor's close, plus all of its worker processes' CPU (their whole
  /// lives, start-up included: they were reaped by the close).
  double user_s = 0, sys_s = 0;
  std::int64_t voluntary_switches = 0, involuntary_switches = 0;  ///< the same processes and span
  /// The largest sum of PSS over the run's process and its workers, sampled
  /// every 20 ms during the job's call and once at its end (KiB; 0 when
  /// /proc/PID/smaps_rollup is not readable).
  double peak_pss_kib = 0;
  double max_rss_kib = 0;      ///< the largest single process's peak RSS (ru_maxrss)
  std::uint64_t failures = 0;  ///< the job's report.failures
  task_latency tasks;          ///< the job's tasks and their percentiles
};

/// Run `w` at point `p` in a child process; its outputs go to `dir`.
/// `tick` is called about every 100 ms while the run goes on; when it returns
/// true the child is killed and the result is cancelled. Errors: the job's
/// status (its message), or internal when the child died without reporting.
result<point_sample> measure_point(const workload& w, const sweep_point& p, const std::string& dir,
                                   const std::function<bool()>& tick);

}  // namespace scalekit::scale
