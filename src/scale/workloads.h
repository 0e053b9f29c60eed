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
  /// For the distributed executor (listed in `executors`): the arguments of
  /// the scalekit command whose job runs on the fleet behind `broker`
  /// (distributed_point.h), measured as `command` is.
  std::function<std::vector<std::string>(std::uint64_t size, const std::string& dir, const sweep_point& p,
                                         const std::string& broker)>
      distributed{};
  /// The file a run writes in its dir, the same bytes on every executor
  /// ("mandelbrot.rgb"); a distributed run writes "distributed-" + it, held
  /// to a local run's after the sweep. Empty: not compared.
  std::string_view output{};
  /// Why the job has no distributed form, for a workload without the
  /// distributed executor: the one-line error of `--executors distributed`.
  std::string_view no_distributed{};
  /// Which processes a point's user and system CPU cover, for the report;
  /// empty: the jobs' usual (cpu_covers() in sweep_detail.h says it).
  std::string_view cpu_covers{};
};

/// `scalekit -q ARGS...` (this program) run to its end. Errors: io_error when
/// it cannot start, task_failed when it fails.
status run_scalekit(std::vector<std::string> args);

/// `count` PNG images in dir/images for the thumbnail workload: eight
/// pictures of the Mandelbrot set at the sizes of bench/thumbnail's corpus
/// (800x600 to 2400x1600), drawn by `scalekit mandelbrot`, then copied until
/// there are `count` (img0000.png, ...). Errors: the command's or the copy's.
status write_image_corpus(std::uint64_t count, const std::string& dir);

/// `files` text files in dir/text (100 to a directory, d000/f00000.txt, ...),
/// each 100 lines of words drawn from a fixed vocabulary by a fixed seed:
/// the same tree for the same count. Errors: io_error.
status write_text_corpus(std::uint64_t files, const std::string& dir);

/// The queries a search run answers: words and phrases of that vocabulary,
/// common and rare, and one that matches nothing.
const std::vector<std::string>& search_queries();

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
