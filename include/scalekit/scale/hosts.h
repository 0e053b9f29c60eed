#pragma once
// The `scale hosts` job: scale-out beyond this machine, emulated.
//
//                      switch namespace (bridge br0)
//           ┌──────────┬──────────┬─────┴────┬─────────┐
//         veth       veth       veth       veth      veth
//        broker     client       h1        ...        hN
//   (redis-server) (the job's  (scalekit worker, one per host)
//                    client)
//
// Every emulated node is a Linux network namespace with one veth link to a
// bridge in a switch namespace, and a cgroup of its own with a CPU quota and a
// memory limit (cgroup v1's cpu.cfs_quota_us / memory.limit_in_bytes, or v2's
// cpu.max / memory.max, found at run time). The namespaces have no route out:
// no packet leaves them. Nothing models link delay (this kernel has no netem).
//
// The job runs two distributed workloads on 1..max_hosts hosts: the seed's
// Mandelbrot (`mandelbrot --executor distributed`, one Celery task per row)
// and a trivial-task one (a 1-pixel-wide image with one iteration: one task
// per row that does almost nothing, so the queue's cost is all there is). It
// fits the USL on 1..fit_hosts hosts, predicts the larger counts, measures
// them and reports each prediction's error against the tolerance stated
// before the run. Then a partition: one host's link goes down mid-run, and
// the job must still complete, its reserved tasks redelivered by the others
// after the workers' visibility timeout.
//
// The namespaces, veths, cgroups and processes are torn down on every way out
// (an error, a stop request, a normal end).

#include <cstdint>
#include <string>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale {

struct hosts_options {
  int max_hosts = 8;  ///< hosts measured: 1..max_hosts (3..16)
  /// The model is fitted on 1..fit_hosts (2..max_hosts-1) and predicts the
  /// rest: the USL from 3 hosts up; with 2, Amdahl's law through both points.
  int fit_hosts = 5;
  double host_cpu = 0.2;           ///< CPU quota of each host, in CPUs (0.01..4)
  double broker_cpu = 1;           ///< of the broker's namespace
  double client_cpu = 1;           ///< of the client's (the job's publisher and result reader)
  std::uint64_t memory_mib = 256;  ///< memory limit of each namespace's cgroup
  /// Largest relative error |measured − predicted| / measured that counts as a
  /// good prediction; stated in the output before the run.
  double tolerance = 0.25;
  /// The Mandelbrot image: larger and deeper than the seed's 640x480 n=1000, so that a
  /// row costs a host some milliseconds (against the queue's cost per task and
  /// the quota's 10 ms period) and one host takes seconds.
  int width = 1280, height = 960, iterations = 20000;
  int tiny_tasks = 4000;    ///< tasks of the trivial-task workload
  int repeat = 3;           ///< runs of each host count; the median's throughput counts (1..100)
  bool partition = true;    ///< run the partition experiment
  double visibility_s = 2;  ///< the workers' visibility timeout: how soon a lost host's tasks come back
  /// DIR/results.json, and the last image of each workload (DIR/mandelbrot.png,
  /// DIR/tiny-tasks.png); empty: no files.
  std::string report_dir;
};

/// Run the experiment. The summary table goes to obs.output(); progress is in
/// runs.
///
/// Report fields: run_id ("sk<pid>": the namespaces' prefix), cgroup ("v1"
/// or "v2"), host_cpu, emulation_cpu_s (all the cgroups' CPU), background_share
/// (the rest of the machine's CPU use during the runs, of all its cores),
/// tolerance, fit_hosts, link_delay, workloads (each:
/// name, unit, points [hosts, wall_s, job_s, throughput (the median run's),
/// throughput_min, throughput_max, tasks_per_host [host, tasks], image_exact,
/// broker_cpu_s, client_cpu_s], fit [model, lambda, sigma, kappa, r2,
/// superlinear] or fit_error, predictions [hosts, predicted, low, high,
/// measured, error, within_tolerance, unbounded_extrapolation (past twice the
/// fitted hosts with no band)]), partition [hosts, down_host,
/// link_cut, down_at_s, recovery_s, wall_s, baseline_wall_s, extra_s,
/// completed, image_exact, restored, down_host_tasks, visibility_s],
/// leftovers (what teardown could not remove: "" when all went).
/// report.failures is 1 when an image was wrong, no link was cut, or
/// something was left behind.
///
/// Errors: invalid_argument when not root or for options out of range;
/// io_error when the namespaces or cgroups cannot be made; task_failed when a
/// run fails; cancelled after a stop request.
result<core::report> run_hosts(const hosts_options& o, core::observer& obs);

}  // namespace scalekit::scale
