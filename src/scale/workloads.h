#pragma once
// The workloads `scalekit scale` sweeps: each a job called through its library
// entry (job.h's run(options, executor, observer)), with a size that sets how
// much work one run does.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"
#include "scalekit/scale/sweep_plan.h"

namespace scalekit::scale {

struct workload {
  std::string_view name;
  std::string_view size_name;  ///< what the size counts: "width", "numbers", "files", "iterations per worker"
  std::string_view about;      ///< one line: the job and its fixed options
  std::vector<std::uint64_t> default_sizes;
  std::uint64_t min_size = 1, max_size = 1;    ///< the sizes a sweep accepts (checked before anything runs)
  std::vector<core::executor_kind> executors;  ///< the kinds the job runs on
  /// Weak scaling: the work of a run grows with the workers (burn gives each
  /// worker the same loop), so throughput, not run time, shows the scaling.
  bool weak = false;
  /// The workers a sweep runs when --workers is not given (empty: 1 to the
  /// number of cores).
  std::vector<std::size_t> default_workers{};
  /// The work is waiting, not computing: more workers than cores is not
  /// oversubscription (the synthetic workload).
  bool waits = false;
  /// Make the run's inputs in `dir` (empty: none needed). Runs in the sweep's
  /// own process, serially, before any measurement.
  std::function<status(std::uint64_t size, const std::string& dir)> prepare{};
  /// One run: the job on `ex`, its outputs in `dir`.
  std::function<result<core::report>(std::uint64_t size, const std::string& dir, core::executor& ex,
                                     core::observer& obs)>
      run;
  /// Instead of `run`, for a job measured as a whole command (rle, as the
  /// seed's is: start-up included): the arguments of the scalekit command that does one run
  /// (after "scalekit -q --json"). The run's figures are then its JSON
  /// report's (the job's own elapsed time and rate) and the rusage of its
  /// process, whose start-up (exec, loading its libraries) they include.
  std::function<std::vector<std::string>(std::uint64_t size, const std::string& dir, const sweep_point& p)> command{};
};

/// Write a 1-bit BMP of concentric rings, width x height (1..65535 each), to
/// `path`, through an RLE file beside it and `scalekit rle decompress` (the
/// BMP writer is the rle job's). Errors: the file's, or task_failed when
/// the decompress fails.
status write_rings_bmp(std::uint32_t width, std::uint32_t height, const std::string& path);

/// Every workload, in the order --help lists them.
std::span<const workload> workloads();
/// The workload named `name`, or nullptr.
const workload* find_workload(std::string_view name);

}  // namespace scalekit::scale
