// From a sweep's runs to its per-point summaries and per-executor models
// (sweep_detail.h's analyse()).

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

point_summary summarize(const sweep_results& r, std::size_t index) {
  point_summary s;
  s.point = r.points[index];
  std::vector<double> x, wall, user, sys, vcsw, ivcsw, tasks, p50, p99, p999, mx;
  for (const auto& run : r.runs) {
    if (run.point != index) continue;
    const auto& m = run.sample;
    x.push_back(run.throughput);
    wall.push_back(m.wall_s);
    user.push_back(m.user_s);
    sys.push_back(m.sys_s);
    vcsw.push_back(static_cast<double>(m.voluntary_switches));
    ivcsw.push_back(static_cast<double>(m.involuntary_switches));
    s.peak_pss_kib = std::max(s.peak_pss_kib, m.peak_pss_kib);
    s.max_rss_kib = std::max(s.max_rss_kib, m.max_rss_kib);
    s.unit = m.unit;
    if (m.tasks.tasks > 0 && !std::isnan(m.tasks.p50)) {
      tasks.push_back(static_cast<double>(m.tasks.tasks));
      p50.push_back(m.tasks.p50);
      p99.push_back(m.tasks.p99);
      p999.push_back(m.tasks.p999);
      mx.push_back(m.tasks.max);
    }
  }
  if (!tasks.empty()) {
    s.tasks.tasks = static_cast<std::uint64_t>(std::llround(spread_of(tasks).median));
    s.tasks.p50 = spread_of(p50).median;
    s.tasks.p99 = spread_of(p99).median;
    s.tasks.p999 = spread_of(p999).median;
    s.tasks.max = spread_of(mx).median;
  }
  s.runs = x.size();
  s.throughput = spread_of(x);
  s.wall_s = spread_of(wall);
  s.user_s = spread_of(user).median;
  s.sys_s = spread_of(sys).median;
  s.voluntary_switches = spread_of(vcsw).median;
  s.involuntary_switches = spread_of(ivcsw).median;
  s.oversubscribed = s.point.workers > r.machine.cores && (r.w == nullptr || !r.w->waits);
  return s;
}

// The median throughput of (kind, size) at N = 1, or NaN.
double x1_of(const sweep_results& r, core::executor_kind kind, std::uint64_t size) {
  for (const auto& s : r.summaries)
    if (s.point.executor == kind && s.point.size == size && s.point.workers == 1) return s.throughput.median;
  return nan;
}

model_summary model_of(const sweep_results& r, core::executor_kind kind, std::uint64_t size) {
  model_summary m;
  m.executor = kind;
  m.size = size;
  std::vector<measurement> pts;
  std::set<double> distinct;
  for (const auto& run : r.runs) {
    const auto& p = r.points[run.point];
    if (p.executor != kind || p.size != size) continue;
    pts.push_back({static_cast<double>(p.workers), run.throughput});
    distinct.insert(static_cast<double>(p.workers));
    m.max_n = std::max(m.max_n, static_cast<double>(p.workers));
  }
  m.distinct_n = distinct.size();
  m.ceiling = nan;
  if (!enough_for_model(m.distinct_n)) return m;
  auto usl = fit_usl(pts);
  auto amdahl = fit_amdahl(pts);
  if (!usl.ok() || !amdahl.ok()) {
    m.fit_error = !usl.ok() ? usl.error().message() : amdahl.error().message();
    return m;
  }
  m.usl = *usl;
  m.amdahl = *amdahl;
  // Superlinear: report the free fit's σ < 0, not the bound the fit was held at.
  m.sigma = usl->superlinear ? usl->sigma_free : usl->sigma.value;
  m.peak_n = peak_concurrency(usl->params());
  if (m.peak_n) m.peak_x = m.peak_too_far() ? nan : usl_throughput(usl->params(), *m.peak_n);
  m.ceiling = amdahl->sigma.value > 0 ? amdahl->lambda.value / amdahl->sigma.value : nan;
  m.predict_n = 2 * m.max_n;
  m.predict_x = usl_throughput(usl->params(), m.predict_n);
  std::tie(m.predict_low, m.predict_high) = throughput_band(*usl, m.predict_n);
  return m;
}

}  // namespace

void analyse(sweep_results& r) {
  r.summaries.clear();
  for (std::size_t i = 0; i < r.points.size(); ++i) r.summaries.push_back(summarize(r, i));
  for (auto& s : r.summaries) {
    const double serial = x1_of(r, core::executor_kind::serial, s.point.size);
    double x1 = x1_of(r, s.point.executor, s.point.size);
    if (!(x1 > 0)) x1 = serial;  // no N = 1 of its own: relative to serial
    const measurement m{static_cast<double>(s.point.workers), s.throughput.median};
    const auto row = scaling_rows({&m, 1}, x1).front();
    s.speedup = row.speedup;
    s.efficiency = row.efficiency;
    s.karp_flatt = row.karp_flatt;
    s.vs_serial = serial > 0 ? s.throughput.median / serial : nan;
  }
  r.models.clear();
  for (const auto size : r.sizes)
    for (const auto kind : r.executors)
      if (kind != core::executor_kind::serial) r.models.push_back(model_of(r, kind, size));
}

}  // namespace scalekit::scale
