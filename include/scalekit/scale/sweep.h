#pragma once
// The `scale WORKLOAD` job: a scalability sweep. Every point (executor ×
// workers × size) runs `repeat` times in shuffled order, each run in a child
// process of its own (point_runner.h says why), the job called through its
// library entry. Per point: throughput, wall time, user and system CPU,
// context switches and peak memory (PSS), with their spread; per executor:
// speedup, efficiency and Karp–Flatt, and the USL and Amdahl's law fitted
// when there are enough distinct worker counts. The machine and its
// background load are recorded beside the figures.
//
// It takes no executor argument: it makes one per run (job.h's shape without
// an executor, as services have).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale {

struct sweep_options {
  std::string workload;                ///< sweep_workload_names()
  std::vector<std::string> executors;  ///< empty: every kind the workload runs on but distributed
  std::vector<std::size_t> workers;    ///< empty: 1 .. the number of cores
  std::vector<std::uint64_t> sizes;    ///< empty: the workload's default size
  int repeat = 3;                      ///< runs of each point, 1..1000
  std::uint64_t seed = 0;              ///< of the run order; 0: from the clock (reported)
  /// Write DIR/results.json (the report), DIR/results.csv (one row per run) and
  /// DIR/report.html (charts and tables, self-contained),
  /// each whole or not at all; empty: no files.
  std::string report_dir;
  /// Refuse to run (task_failed) when other load shows before the sweep;
  /// otherwise the load is a warning and a field of the report.
  bool require_idle = false;
};

/// "mandelbrot, primes, burn, numbers, rle, synthetic, thumbnail, search".
std::string sweep_workload_names();

/// A workload as --help shows it.
struct sweep_workload_info {
  std::string name;
  std::string help;       ///< one line: what a run does and the default size
  std::string executors;  ///< the executors it runs on: "serial,threads,processes,openmp"
};
/// Every workload a sweep can run, in --help's order.
std::vector<sweep_workload_info> sweep_workloads();
/// Registers the tasks of the workloads that are not jobs of their own (the
/// synthetic one), before any executor starts.
void register_sweep_tasks();

/// Run the sweep. Progress in runs, with the time left in the unit
/// ("runs, ~12 s left"); the summary table goes to obs.output(); warnings
/// (background load, oversubscription, thin data) are messages.
///
/// Report fields: workload, about, size_name, sizes, executors, workers,
/// repeat, seed, cores, cpu_model, kernel, build, git_revision,
/// busy_cores_before, load1_before, background_cpu_s, background_share,
/// oversubscribed, points (executor, workers, size, runs, unit, throughput
/// median/min/max, wall_s median/min/max, user_s, sys_s, voluntary_switches,
/// involuntary_switches, peak_pss_kib, max_rss_kib, speedup, efficiency,
/// karp_flatt, vs_serial, oversubscribed, and the task latency: tasks,
/// task_p50_s, task_p99_s, task_p999_s, task_max_s, the medians over the
/// runs of the job's report's (core::add_executor_fields; distributed: the
/// workers' logged run times), null when no task was timed), cpu_covers
/// (which processes user_s and sys_s count), models (one per executor and size:
/// verdict, distinct_n, and when fitted the USL's and Amdahl's parameters),
/// runs (each run in the order it ran), distributed_output_equal_bytes (when
/// distributed points ran: the bytes of their output found equal to a local
/// executor's) and report_dir.
///
/// A distributed point's run starts its own redis-server and p.workers
/// scalekit workers on loopback and stops them after it (also on failure or
/// a stop request); their CPU counts in the point's (src/scale/fleet.h).
///
/// Errors: invalid_argument for an unknown workload or executor (for
/// distributed on a job without a distributed form: why not), a worker
/// count of 0, a repeat outside 1..1000, or a size the workload refuses;
/// task_failed when --require-idle finds the machine busy; cancelled after a
/// stop request; the first run's error when a run fails (task_failed when a
/// distributed fleet cannot start); task_failed when the distributed output
/// differs from the local one; io_error when the report files cannot be
/// written.
result<core::report> run_sweep(const sweep_options& o, core::observer& obs);

}  // namespace scalekit::scale
