#pragma once
// `scalekit scale SERVICE`: a scalability sweep of a service under load. For
// each N (the service's own scaling knob: serve's worker processes,
// sort-service's executor processes, dns serve's event-loop threads, the
// distributed worker's task slots, with a private Redis) the real server
// starts on a free loopback port, an open-loop generator
// (src/scale/open_loop.h) offers it requests on a schedule at a rising rate,
// step by step, and the server is stopped (also on SIGINT/SIGTERM: nothing is
// left behind).
//
// Saturation throughput: the offered rate starts low and is multiplied by
// `rate_factor` each step until a step is saturated (good answers per second
// below 90% of the offered rate, more than 1% errors or timeouts) or `max_rate`
// is reached; the saturation throughput of the run is the largest achieved
// rate of its steps. It is the throughput X(N) that the USL and Amdahl's law
// are fitted to, as the jobs' sweeps fit theirs (sweep.h).
//
// Per step: offered and achieved rate, errors and timeouts, latency
// p50/p99/p99.9/max from each request's intended send time, the server tree's
// CPU per request (user and system apart, and their sum to the nanosecond)
// and its context switches, and the
// generator's own CPU and schedule lag.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale {

struct service_sweep_options {
  std::string workload;              ///< service_workloads()' names
  std::vector<std::size_t> workers;  ///< N; empty: the workload's default (1..6: six N, a model fitted)
  std::vector<std::uint64_t> sizes;  ///< empty: the workload's default request size
  int repeat = 1;                    ///< runs of each N (each a whole rate ramp), 1..100
  std::uint64_t seed = 0;            ///< run order and Poisson arrivals; 0: from the clock (reported)
  std::string arrival = "poisson";   ///< "poisson" or "constant"
  double step_s = 0.4;               ///< seconds each offered rate is held, 0.05..60
  double start_rate = 0;             ///< requests/s of the first step; 0: the workload's
  double rate_factor = 1.5;          ///< each step offers this times the last, 1.05..10
  double max_rate = 100000;          ///< no step offers more
  double timeout_s = 1;              ///< a request without an answer this long is a timeout
  std::string report_dir;            ///< as sweep_options::report_dir
  bool require_idle = false;         ///< as sweep_options::require_idle
};

/// A service workload as --help shows it.
struct service_workload_info {
  std::string name;
  std::string help;
};
/// Every service workload, in --help's order.
std::vector<service_workload_info> service_workloads();

/// Run the sweep. The report has sweep.h's fields (points, models, runs: with
/// throughput the saturation throughput of each N) and also `load_steps`
/// (every step: workers, repeat, offered, achieved, sent, ok, errors,
/// timeouts, held, latency_p50_s, latency_p99_s, latency_p999_s,
/// latency_max_s, lag_p99_s, lag_max_s, generator_cpu, server_cpu_s_per_request
/// (schedstat, ns resolution), server_user_s_per_request (clock ticks),
/// server_sys_s_per_request, broker_cpu_s_per_request (the worker's Redis,
/// apart from the server tree; null for a service without a broker),
/// voluntary_switches, involuntary_switches, saturated, generator_bound) and
/// `latency` (per point: the percentiles at the highest offered rate every
/// run sustained, and the same CPU figures there); `cpu_covers` says which
/// processes the points' CPU counts. Errors as run_sweep's, and
/// io_error when the server cannot be started.
result<core::report> run_service_sweep(const service_sweep_options& o, core::observer& obs);

}  // namespace scalekit::scale
