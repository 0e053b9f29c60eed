// The sweep's plan and its statistics (sweep_plan.h).

#include "scalekit/scale/sweep_plan.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "scalekit/scale/fit.h"

namespace scalekit::scale {

std::vector<sweep_point> plan_points(std::span<const core::executor_kind> executors,
                                     std::span<const std::size_t> workers, std::span<const std::uint64_t> sizes) {
  std::vector<std::size_t> ns(workers.begin(), workers.end());
  std::sort(ns.begin(), ns.end());
  ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
  std::vector<sweep_point> out;
  for (const auto size : sizes)
    for (const auto kind : executors)
      for (const auto n : ns) {
        const sweep_point p{kind, kind == core::executor_kind::serial ? 1 : n, size};
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
      }
  return out;
}

std::vector<planned_run> shuffled_runs(std::size_t points, int repeat, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<planned_run> out;
  out.reserve(points * static_cast<std::size_t>(std::max(repeat, 0)));
  std::vector<std::size_t> order(points);
  for (int r = 0; r < repeat; ++r) {
    for (std::size_t i = 0; i < points; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (const auto p : order) out.push_back({p, r});
  }
  return out;
}

spread spread_of(std::vector<double> values) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t k = values.size();
  s.min = values.front();
  s.max = values.back();
  s.median = k % 2 == 1 ? values[k / 2] : (values[k / 2 - 1] + values[k / 2]) / 2;
  return s;
}

std::vector<scaling_row> scaling_rows(std::span<const measurement> points, double x1) {
  const auto kf = karp_flatt(points, x1);
  std::vector<scaling_row> rows;
  rows.reserve(points.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& m = points[i];
    const double s = x1 > 0 ? m.x / x1 : nan;
    rows.push_back({m.n, m.x, s, s / m.n, kf[i]});
  }
  return rows;
}

bool enough_for_model(std::size_t distinct_n) { return distinct_n >= min_distinct_for_model; }

}  // namespace scalekit::scale
