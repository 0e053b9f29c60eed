#pragma once
// The sweep's results between measuring (sweep.cc) and reporting them
// (sweep_report.cc: the summary table, results.csv and the report's fields).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "point_runner.h"
#include "scalekit/core/job.h"
#include "scalekit/scale/machine.h"
#include "scalekit/scale/sweep_plan.h"
#include "scalekit/scale/usl.h"
#include "service_detail.h"
#include "workloads.h"

namespace scalekit::scale {

struct run_record {
  std::size_t point = 0;
  int repeat = 0;
  point_sample sample;
  double throughput = 0;  ///< items / wall_s
};

struct point_summary {
  sweep_point point;
  std::size_t runs = 0;
  std::string unit;
  spread throughput, wall_s;
  double user_s = 0, sys_s = 0, voluntary_switches = 0, involuntary_switches = 0;  ///< medians
  double peak_pss_kib = 0, max_rss_kib = 0;                                        ///< the largest of the runs
  double speedup = 0, efficiency = 0, karp_flatt = 0;  ///< against the same executor at N = 1
  double vs_serial = 0;                                ///< median throughput / serial's at this size
  bool oversubscribed = false;                         ///< more workers than cores
  /// The runs' task latency: the median of each percentile over the runs
  /// (each run's are ordered, so the medians are too) and of the task count.
  task_latency tasks;
};

/// The models of one executor at one size.
struct model_summary {
  core::executor_kind executor = core::executor_kind::threads;
  std::uint64_t size = 0;
  std::size_t distinct_n = 0;
  double max_n = 1;
  std::optional<fit_result> usl, amdahl;  ///< set when enough_for_model(distinct_n)
  std::string fit_error;                  ///< when a fit was tried and failed
  double sigma = 0;                       ///< the USL's σ, the free fit's when superlinear (not clamped)
  std::optional<double> peak_n;           ///< the USL's peak concurrency
  double peak_x = 0;
  double ceiling = 0;                        ///< Amdahl's λ/σ; NaN when σ = 0
  double predict_n = 0;                      ///< 2 × max_n: an extrapolation
  double predict_x = 0;                      ///< the USL's throughput there
  double predict_low = 0, predict_high = 0;  ///< its 95% band (throughput_band)
  /// N* lies beyond twice the largest N measured: no throughput is predicted there.
  [[nodiscard]] bool peak_too_far() const { return peak_n && *peak_n > 2 * max_n; }
  [[nodiscard]] bool fitted() const { return usl.has_value(); }
};

struct sweep_results {
  const workload* w = nullptr;
  machine_info machine;
  load_sample before;
  double background_cpu_s = 0, background_share = 0;
  std::uint64_t seed = 0;
  int repeat = 0;
  std::vector<std::uint64_t> sizes;
  std::vector<core::executor_kind> executors;
  std::vector<std::size_t> workers;
  std::vector<sweep_point> points;
  std::vector<run_record> runs;  ///< in the order they ran
  std::vector<point_summary> summaries;
  std::vector<model_summary> models;
  /// Service sweeps only (service_sweep.h): every load step in the order
  /// run, and per point its latency summary (in points' order).
  std::vector<load_step> steps;
  std::vector<service_point_summary> service_points;
};

/// The per-point summaries and per-executor models from r.runs.
/// The sizes and the run order's seed of a sweep, shared by the jobs' and the
/// services' checks: `sizes` (the workload's defaults when empty), each within
/// its range, else invalid_argument naming it; the seed asked for, or one from
/// the clock and the pid.
status choose_sizes_and_seed(const workload& w, const std::vector<std::uint64_t>& sizes, std::uint64_t seed,
                             sweep_results& r);

/// Other programs' load, sampled for half a second while this one does
/// nothing, into r.before: past idle_busy_cores a warning that says what it
/// may do to the figures (`effect`), or with `require_idle` a task_failed.
status check_background_load(sweep_results& r, bool require_idle, std::string_view effect, core::observer& obs);

void analyse(sweep_results& r);
/// Which processes the points' user s and sys s cover, in words (the
/// report's cpu_covers, and a line of the summary and the page).
std::string cpu_covers(const sweep_results& r);
/// The task latency table (stdout) of a jobs sweep; "" when no point has one.
std::string task_latency_text(const sweep_results& r);
/// The summary table (stdout).
std::string text_table(const sweep_results& r);
/// results.csv: a header, then one row per run in the order they ran.
std::string csv_rows(const sweep_results& r);
/// report.html: one self-contained page, charts in inline SVG (sweep_html.cc).
std::string html_report(const sweep_results& r);
/// The report's charts as files of their own: DIR/charts/NAME.svg, and
/// NAME.png drawn by rsvg-convert (Debian's librsvg2-bin) when it can run
/// (a note otherwise); each whole or absent (sweep_charts.cc).
status write_chart_files(const sweep_results& r, const std::string& dir, core::observer& obs);
/// --report DIR of a sweep: DIR made, then results.json (`rep`), results.csv
/// (`csv`), report.html and the charts, each whole or absent.
status write_report_files(const sweep_results& r, const core::report& rep, const std::string& csv,
                          const std::string& dir, core::observer& obs);
/// The report's fields (sweep.h lists them).
void add_fields(core::report& rep, const sweep_results& r);

// A service sweep's own parts (service_report.cc, service_charts.cc).
/// The latency table and the load steps (stdout), after text_table().
std::string service_text(const sweep_results& r);
/// results.csv of a service sweep: one row per load step.
std::string service_csv_rows(const sweep_results& r);
/// load_steps, latency, arrival and step_s (service_sweep.h).
void add_service_fields(core::report& rep, const sweep_results& r, const std::string& arrival, double step_s);
/// The page's latency section (tables with data-value cells, the charts); "" for a jobs sweep.
std::string service_html(const sweep_results& r);

}  // namespace scalekit::scale
