#pragma once
// A service sweep's measurements (service_sweep.cc) as its report sees them
// (service_report.cc, service_charts.cc): the load steps of each run and
// their summary per point. Kept in sweep_results beside the jobs' figures.

#include <cstddef>
#include <cstdint>

namespace scalekit::scale {

/// One offered rate held for one step of a run.
struct load_step {
  std::size_t point = 0;  ///< index in sweep_results::points
  int repeat = 0;
  double offered = 0, achieved = 0;  ///< requests/s: scheduled, and good answers within the step
  std::uint64_t sent = 0, ok = 0, errors = 0, timeouts = 0, held = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;  ///< latency of good answers, seconds, from the intended start
  double lag_p99 = 0, lag_max = 0;             ///< the generator's schedule lag, seconds
  double generator_cpu = 0;                    ///< the generator's CPU seconds per second of the step
  double server_user = 0, server_sys = 0;      ///< the server tree's CPU seconds per good answer (10 ms ticks)
  double server_cpu = 0;                       ///< the same, user + system, from schedstat (ns resolution)
  /// The helpers' CPU seconds per good answer (schedstat): the Redis broker
  /// of `worker`, apart from the server's; NaN for a service without one.
  double broker_cpu = 0;
  double voluntary_switches = 0, involuntary_switches = 0;  ///< the server tree's, during the step
  bool saturated = false;                                   ///< achieved < 90% of offered, or > 1% errors and timeouts
  bool generator_bound = false;  ///< the generator was late (lag p99 > 1 ms) or busy (> 90% of a core)
};

/// A point's latency: the median over its runs of the percentiles at the
/// highest offered rate the run sustained (its last unsaturated step), and
/// its CPU per request there.
struct service_point_summary {
  double sustained = 0;  ///< the offered rate of that step (median over runs)
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  double server_user = 0, server_sys = 0, server_cpu = 0;
  double broker_cpu = 0;         ///< the helpers' (Redis's) per request, NaN without one
  double lag_p99 = 0;            ///< the generator's, at that step (median of the runs)
  double generator_cpu = 0;      ///< the generator's, at that step (median of the runs)
  bool generator_bound = false;  ///< a step that set the saturation was generator-bound
};

}  // namespace scalekit::scale
