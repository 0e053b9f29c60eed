// The `scale fit` job: read, fit both models, report.

#include "scalekit/scale/fit.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include "scalekit/scale/input.h"
#include "scalekit/scale/usl.h"

namespace scalekit::scale {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "-"; }

std::string with_interval(const estimate& e) {
  if (e.at_bound) return num(e.value) + " (at bound)";
  if (!std::isfinite(e.low)) return num(e.value) + " (no interval)";
  return fmt::format("{} [{}, {}]", num(e.value), num(e.low), num(e.high));
}

core::report_record model_record(const char* name, const fit_result& f, bool with_kappa) {
  core::report_record r{{"model", std::string(name), ""}};
  auto add = [&](const std::string& key, const estimate& e) {
    r.push_back({key, e.value, ""});
    r.push_back({key + "_low", e.low, ""});
    r.push_back({key + "_high", e.high, ""});
  };
  add("lambda", f.lambda);
  add("sigma", f.sigma);
  if (with_kappa) add("kappa", f.kappa);
  r.push_back({"r2", f.r2, ""});
  r.push_back({"dof", static_cast<std::int64_t>(f.dof), ""});
  r.push_back({"superlinear", f.superlinear, ""});
  return r;
}

}  // namespace

result<core::report> run_fit(const fit_options& o, core::observer& obs) {
  const auto start = std::chrono::steady_clock::now();
  auto read = read_measurements(o.file);
  if (!read.ok()) return read.error();
  const auto& pts = read.value();
  const std::string name = o.file == "-" ? "stdin" : o.file;
  auto usl = fit_usl(pts);
  if (!usl.ok()) return status::invalid_argument(name + ": " + usl.error().message());
  auto amdahl = fit_amdahl(pts);
  if (!amdahl.ok()) return status::invalid_argument(name + ": " + amdahl.error().message());

  std::set<double> distinct;
  double x1_sum = 0;
  int x1_count = 0;
  for (const auto& m : pts) {
    distinct.insert(m.n);
    if (m.n == 1) {
      x1_sum += m.x;
      ++x1_count;
    }
  }
  // Thin data: three parameters from fewer than six distinct N fit almost anything.
  const bool thin = distinct.size() < min_distinct_for_model;
  if (thin)
    obs.message(
        fmt::format("{}: only {} distinct N: the fits are weak; trust speedup, efficiency and "
                    "Karp-Flatt more than the model (measure at {} or more)",
                    name, distinct.size(), min_distinct_for_model));
  const bool x1_measured = x1_count > 0;
  const double x1 = x1_measured ? x1_sum / x1_count : usl->lambda.value;
  const auto kf = karp_flatt(pts, x1);
  const auto peak = peak_concurrency(usl->params());
  const double peak_x = peak ? usl_throughput(usl->params(), *peak) : nan;
  const double ceiling = amdahl->sigma.value > 0 ? amdahl->lambda.value / amdahl->sigma.value : nan;

  // The text summary.
  std::string text = fmt::format("{}: {} points, {} distinct N\n", name, pts.size(), distinct.size());
  text += fmt::format("USL     λ = {}\n        σ = {}\n        κ = {}\n        R² = {}{}\n", with_interval(usl->lambda),
                      with_interval(usl->sigma), with_interval(usl->kappa), num(usl->r2),
                      usl->superlinear ? "  (superlinear: the free fit wanted σ < 0)" : "");
  text += fmt::format("Amdahl  λ = {}\n        σ = {}\n        R² = {}\n", with_interval(amdahl->lambda),
                      with_interval(amdahl->sigma), num(amdahl->r2));
  text += peak ? fmt::format("peak    N* = {} (USL), X(N*) = {}\n", num(*peak), num(peak_x))
               : std::string("peak    none (κ = 0: throughput never falls)\n");
  text += std::isfinite(ceiling) ? fmt::format("ceiling λ/σ = {} (Amdahl)\n", num(ceiling))
                                 : std::string("ceiling none (σ = 0)\n");
  text += fmt::format("speedup relative to X(1) = {} ({})\n", num(x1), x1_measured ? "measured" : "fitted λ");
  text += fmt::format("{:>8} {:>12} {:>12} {:>12} {:>8} {:>10} {:>10}\n", "N", "throughput", "USL", "Amdahl", "speedup",
                      "efficiency", "Karp-Flatt");
  std::vector<core::report_record> point_records;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const auto& m = pts[i];
    const double s = x1 > 0 ? m.x / x1 : nan;
    const double u = usl_throughput(usl->params(), m.n), a = usl_throughput(amdahl->params(), m.n);
    text += fmt::format("{:>8} {:>12} {:>12} {:>12} {:>8} {:>10} {:>10}\n", num(m.n), num(m.x), num(u), num(a), num(s),
                        num(s / m.n), num(kf[i]));
    point_records.push_back({{"n", m.n, ""},
                             {"throughput", m.x, ""},
                             {"usl", u, ""},
                             {"amdahl", a, ""},
                             {"speedup", s, ""},
                             {"efficiency", s / m.n, ""},
                             {"karp_flatt", kf[i], ""}});
  }
  obs.output(text);

  core::report r("scale fit");
  r.work = fmt::format("{}: {} points", name, pts.size());
  r.add("file", name, "");  // in `work`
  r.add("points_count", static_cast<std::uint64_t>(pts.size()), "");
  r.add("distinct_n", static_cast<std::uint64_t>(distinct.size()), "{} distinct N");
  r.add("thin_data", thin, thin ? "thin data" : "");
  r.add("usl_r2", usl->r2, "USL R²={}");
  r.add("peak_concurrency", peak ? *peak : nan, peak ? "N*={}" : "no peak");
  r.add("peak_throughput", peak_x, peak ? "X(N*)={}" : "");
  r.add("amdahl_ceiling", ceiling, std::isfinite(ceiling) ? "Amdahl ceiling {}" : "no ceiling");
  r.add("x1", x1, "");
  r.add("x1_source", std::string(x1_measured ? "measured" : "fitted"), "");
  r.add("models",
        std::vector<core::report_record>{model_record("usl", *usl, true), model_record("amdahl", *amdahl, false)}, "");
  r.add("points", std::move(point_records), "");
  r.elapsed = std::chrono::steady_clock::now() - start;
  return r;
}

}  // namespace scalekit::scale
