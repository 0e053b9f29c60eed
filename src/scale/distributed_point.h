#pragma once
// A sweep point on the distributed executor: one run on a fleet of its own
// (fleet.h: a private Redis and N workers), the job's client run as a
// command (point_runner.h), and the fleet's CPU and memory counted in the
// run's. After the sweep, the distributed runs' output is held to the local
// executors' byte for byte.

#include <cstdint>
#include <functional>
#include <string>

#include "point_runner.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"
#include "scalekit/scale/sweep_plan.h"
#include "workloads.h"

namespace scalekit::scale {

/// Run `w` at `p` (p.executor distributed): start the fleet of p.workers
/// workers (its logs in `dir`/fleet), run w.distributed's command, stop the
/// fleet. The sample's CPU adds Redis's and the workers' from just before the
/// command to its end; its peak PSS adds theirs at the end; switches and the
/// largest RSS are the client's. `tick` as measure_point's, also while the
/// fleet starts. Errors: the fleet's, or measure_point's.
/// REQUIRES w.distributed.
result<point_sample> measure_distributed(const workload& w, const sweep_point& p, const std::string& dir,
                                         const std::function<bool()>& tick, const core::observer& obs);

/// Compare the distributed runs' output at `size` (dir/distributed-OUTPUT)
/// with a local executor's (dir/OUTPUT, made by a serial run now when no
/// local point of the sweep left one). Returns the bytes compared; errors:
/// task_failed when they differ or one is missing, or the serial run's.
/// REQUIRES: w.output not empty.
result<std::uint64_t> check_distributed_output(const workload& w, std::uint64_t size, const std::string& dir);

}  // namespace scalekit::scale
