// A sweep's results as the summary table, results.csv and the report's fields.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/input_file.h"
#include "scalekit/scale/fit.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "-"; }

std::string num3(double v) { return std::isfinite(v) ? fmt::format("{:.3g}", v) : "-"; }

std::string kind_name(core::executor_kind k) { return std::string(core::to_string(k)); }

std::string join_sizes(const std::vector<std::uint64_t>& v) {
  std::string out;
  for (const auto x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

std::string model_line(const model_summary& m, const std::string& size_name) {
  std::string head = fmt::format("model {} ({} {}): ", kind_name(m.executor), size_name, m.size);
  if (!enough_for_model(m.distinct_n))
    return head +
           fmt::format("{} ({} distinct N, {} needed)\n", thin_data_verdict, m.distinct_n, min_distinct_for_model);
  if (!m.fitted()) return head + "no fit: " + m.fit_error + "\n";
  const auto& u = *m.usl;
  std::string out =
      head + fmt::format("USL λ={} [{}, {}] σ={}{} κ={} R²={}", num(u.lambda.value), num(u.lambda.low),
                         num(u.lambda.high), num(m.sigma), u.superlinear ? " (superlinear: σ < 0, not clamped)" : "",
                         num(u.kappa.value), num(u.r2));
  if (m.peak_too_far())
    out += fmt::format("; peak N*={} (beyond twice the largest N measured: no throughput predicted)", num(*m.peak_n));
  else if (m.peak_n)
    out += fmt::format("; peak N*={}{} X={}", num(*m.peak_n), *m.peak_n > m.max_n ? " (extrapolation)" : "",
                       num(m.peak_x));
  out += fmt::format("; Amdahl σ={} ceiling {}", num(m.amdahl->sigma.value), num(m.ceiling));
  out += fmt::format("; X({})={} [{}, {}] (extrapolation; 95% band of the fit)\n", num(m.predict_n), num(m.predict_x),
                     num(m.predict_low), num(m.predict_high));
  return out;
}

}  // namespace

std::string cpu_covers(const sweep_results& r) {
  const auto& w = *r.w;
  if (!w.cpu_covers.empty()) return std::string(w.cpu_covers);
  std::string out = w.command ? "the command's process and its worker processes, its start included"
                              : "the run's process and its worker processes, from just before the job's call to the "
                                "executor's close";
  if (std::any_of(r.points.begin(), r.points.end(),
                  [](const sweep_point& p) { return p.executor == core::executor_kind::distributed; }))
    out += "; distributed points: the client's process, the Redis broker and the N workers, during the client's run";
  return out;
}

std::string text_table(const sweep_results& r) {
  const auto& w = *r.w;
  const auto& mc = r.machine;
  std::string out = fmt::format("scale {}: {} {}; {} points x {} runs in shuffled order (seed {})\n", w.name,
                                w.size_name, join_sizes(r.sizes), r.points.size(), r.repeat, r.seed);
  out += fmt::format("  {}\n", w.about);
  out += fmt::format("machine: {}, {} cores, {}, {}{}\n", mc.cpu_model.empty() ? "unknown CPU" : mc.cpu_model, mc.cores,
                     mc.kernel, mc.build, mc.git_revision.empty() ? "" : ", git " + mc.git_revision);
  out +=
      fmt::format("load: {} busy cores before the sweep (load average {}); others used {} CPU-s ({:.1f}%) during it\n",
                  num(r.before.busy_cores), num(r.before.load1), num(r.background_cpu_s), 100 * r.background_share);
  const std::string unit = r.summaries.empty() ? "items" : r.summaries.front().unit;
  out += fmt::format("\n{:<11} {:>3} {:>10} {:>30} {:>8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7} {:>6} {:>7} {:>7}\n",
                     "executor", "N", "size", unit + "/s median [min, max]", "wall s", "user s", "sys s", "vcsw",
                     "ivcsw", "PSS MiB", "speedup", "effic.", "K-F", "/serial");
  bool any_over = false;
  for (const auto& s : r.summaries) {
    any_over = any_over || s.oversubscribed;
    const std::string x =
        fmt::format("{} [{}, {}]", num(s.throughput.median), num(s.throughput.min), num(s.throughput.max));
    out += fmt::format("{:<11} {:>3} {:>10} {:>30} {:>8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7} {:>6} {:>7} {:>7}\n",
                       kind_name(s.point.executor), std::to_string(s.point.workers) + (s.oversubscribed ? "*" : ""),
                       s.point.size, x, num3(s.wall_s.median), num3(s.user_s), num3(s.sys_s),
                       num3(s.voluntary_switches), num3(s.involuntary_switches), num3(s.peak_pss_kib / 1024),
                       num3(s.speedup), num3(s.efficiency), num3(s.karp_flatt), num3(s.vs_serial));
  }
  out += task_latency_text(r);
  out += fmt::format("\nuser s and sys s: {}\n", cpu_covers(r));
  if (any_over) out += fmt::format("* N > {} cores: oversubscribed (workers share cores)\n", mc.cores);
  if (w.weak) out += "weak scaling: each worker does the same work, so the work grows with N\n";
  for (const auto& m : r.models) out += model_line(m, std::string(w.size_name));
  return out;
}

status write_report_files(const sweep_results& r, const core::report& rep, const std::string& csv,
                          const std::string& dir, core::observer& obs) {
  if (auto st = core::make_output_dir(dir); !st.ok()) return st;
  if (auto st = core::atomic_file::write_whole(dir + "/results.json", rep.to_json() + "\n"); !st.ok()) return st;
  if (auto st = core::atomic_file::write_whole(dir + "/results.csv", csv); !st.ok()) return st;
  if (auto st = core::atomic_file::write_whole(dir + "/report.html", html_report(r)); !st.ok()) return st;
  return write_chart_files(r, dir, obs);
}

std::string csv_rows(const sweep_results& r) {
  std::string out =
      "order,executor,workers,size,repeat,wall_s,items,unit,throughput,user_s,sys_s,voluntary_switches,"
      "involuntary_switches,peak_pss_kib,max_rss_kib,failures,oversubscribed,tasks,task_p50_s,task_p99_s,task_p999_s,"
      "task_max_s\n";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const auto& run = r.runs[i];
    const auto& p = r.points[run.point];
    const auto& s = run.sample;
    out += fmt::format(
        "{},{},{},{},{},{:.6f},{},{},{:.6g},{:.6f},{:.6f},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g}\n", i,
        kind_name(p.executor), p.workers, p.size, run.repeat, s.wall_s, s.items, s.unit, run.throughput, s.user_s,
        s.sys_s, s.voluntary_switches, s.involuntary_switches, s.peak_pss_kib, s.max_rss_kib, s.failures,
        p.workers > r.machine.cores ? 1 : 0, s.tasks.tasks, s.tasks.p50, s.tasks.p99, s.tasks.p999, s.tasks.max);
  }
  return out;
}

void add_fields(core::report& rep, const sweep_results& r) {
  const auto& mc = r.machine;
  std::string executors, workers;
  for (const auto k : r.executors) executors += (executors.empty() ? "" : ",") + kind_name(k);
  for (const auto n : r.workers) workers += (workers.empty() ? "" : ",") + std::to_string(n);
  rep.add("workload", std::string(r.w->name), "");  // in `work`
  rep.add("about", std::string(r.w->about), "");
  rep.add("size_name", std::string(r.w->size_name), "");
  rep.add("sizes", join_sizes(r.sizes), "");
  rep.add("executors", executors, "");
  rep.add("workers", workers, "");
  rep.add("repeat", static_cast<std::int64_t>(r.repeat), "");
  rep.add("seed", r.seed, "seed {}");
  rep.add("cores", static_cast<std::uint64_t>(mc.cores), "{} cores");
  rep.add("cpu_model", mc.cpu_model, "");
  rep.add("kernel", mc.kernel, "");
  rep.add("build", mc.build, "");
  rep.add("git_revision", mc.git_revision, "");
  rep.add("busy_cores_before", r.before.busy_cores, "");
  rep.add("load1_before", r.before.load1, "");
  rep.add("background_cpu_s", r.background_cpu_s, "");
  rep.add("background_share", r.background_share, "");
  rep.add("cpu_covers", cpu_covers(r), "");
  bool over = false;
  std::vector<core::report_record> points;
  for (const auto& s : r.summaries) {
    over = over || s.oversubscribed;
    points.push_back({{"executor", kind_name(s.point.executor), ""},
                      {"workers", static_cast<std::uint64_t>(s.point.workers), ""},
                      {"size", s.point.size, ""},
                      {"runs", static_cast<std::uint64_t>(s.runs), ""},
                      {"unit", s.unit, ""},
                      {"throughput", s.throughput.median, ""},
                      {"throughput_min", s.throughput.min, ""},
                      {"throughput_max", s.throughput.max, ""},
                      {"wall_s", s.wall_s.median, ""},
                      {"wall_s_min", s.wall_s.min, ""},
                      {"wall_s_max", s.wall_s.max, ""},
                      {"user_s", s.user_s, ""},
                      {"sys_s", s.sys_s, ""},
                      {"voluntary_switches", s.voluntary_switches, ""},
                      {"involuntary_switches", s.involuntary_switches, ""},
                      {"peak_pss_kib", s.peak_pss_kib, ""},
                      {"max_rss_kib", s.max_rss_kib, ""},
                      {"speedup", s.speedup, ""},
                      {"efficiency", s.efficiency, ""},
                      {"karp_flatt", s.karp_flatt, ""},
                      {"vs_serial", s.vs_serial, ""},
                      {"oversubscribed", s.oversubscribed, ""},
                      {"tasks", s.tasks.tasks, ""},
                      {"task_p50_s", s.tasks.p50, ""},
                      {"task_p99_s", s.tasks.p99, ""},
                      {"task_p999_s", s.tasks.p999, ""},
                      {"task_max_s", s.tasks.max, ""}});
  }
  rep.add("oversubscribed", over, over ? "oversubscribed points" : "");
  rep.add("points", std::move(points), "");
  std::vector<core::report_record> models;
  for (const auto& m : r.models) {
    const std::string verdict = m.fitted()                       ? std::string("fitted")
                                : enough_for_model(m.distinct_n) ? "no fit: " + m.fit_error
                                                                 : std::string(thin_data_verdict);
    core::report_record rec{{"executor", kind_name(m.executor), ""},
                            {"size", m.size, ""},
                            {"distinct_n", static_cast<std::uint64_t>(m.distinct_n), ""},
                            {"verdict", verdict, ""}};
    if (m.fitted()) {
      const auto& u = *m.usl;
      rec.insert(rec.end(), {{"lambda", u.lambda.value, ""},
                             {"lambda_low", u.lambda.low, ""},
                             {"lambda_high", u.lambda.high, ""},
                             {"sigma", m.sigma, ""},
                             {"sigma_low", u.sigma.low, ""},
                             {"sigma_high", u.sigma.high, ""},
                             {"kappa", u.kappa.value, ""},
                             {"kappa_low", u.kappa.low, ""},
                             {"kappa_high", u.kappa.high, ""},
                             {"r2", u.r2, ""},
                             {"superlinear", u.superlinear, ""},
                             {"peak_concurrency", m.peak_n ? *m.peak_n : std::nan(""), ""},
                             {"peak_throughput", m.peak_n ? m.peak_x : std::nan(""), ""},
                             {"peak_is_extrapolation", m.peak_n && *m.peak_n > m.max_n, ""},
                             {"amdahl_sigma", m.amdahl->sigma.value, ""},
                             {"amdahl_ceiling", m.ceiling, ""},
                             {"predicted_n", m.predict_n, ""},
                             {"predicted_throughput", m.predict_x, ""},
                             {"predicted_throughput_low", m.predict_low, ""},
                             {"predicted_throughput_high", m.predict_high, ""},
                             {"prediction_is_extrapolation", true, ""}});
    }
    models.push_back(std::move(rec));
  }
  rep.add("models", std::move(models), "");
  std::vector<core::report_record> runs;
  for (const auto& run : r.runs) {
    const auto& p = r.points[run.point];
    runs.push_back({{"executor", kind_name(p.executor), ""},
                    {"workers", static_cast<std::uint64_t>(p.workers), ""},
                    {"size", p.size, ""},
                    {"repeat", static_cast<std::int64_t>(run.repeat), ""},
                    {"wall_s", run.sample.wall_s, ""},
                    {"throughput", run.throughput, ""},
                    {"user_s", run.sample.user_s, ""},
                    {"sys_s", run.sample.sys_s, ""},
                    {"voluntary_switches", run.sample.voluntary_switches, ""},
                    {"involuntary_switches", run.sample.involuntary_switches, ""},
                    {"peak_pss_kib", run.sample.peak_pss_kib, ""},
                    {"tasks", run.sample.tasks.tasks, ""},
                    {"task_p50_s", run.sample.tasks.p50, ""},
                    {"task_p99_s", run.sample.tasks.p99, ""},
                    {"task_p999_s", run.sample.tasks.p999, ""},
                    {"task_max_s", run.sample.tasks.max, ""}});
  }
  rep.add("runs", std::move(runs), "");
}

}  // namespace scalekit::scale
