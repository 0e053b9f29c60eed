// A service sweep's latency charts (sweep_charts.h's service_charts): the
// percentiles against N, and the hockey stick, the p99 against the offered
// rate for each N, whose knee is the saturation the throughput chart shows.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sweep_charts.h"

namespace scalekit::scale {

namespace {

// Okabe–Ito hues for series that are not executors (percentiles, N).
const char* hue(std::size_t i) {
  static const char* all[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"};
  return all[i % 8];
}

void marks(chart& c, const std::vector<std::pair<double, double>>& pts, const char* colour, const std::string& cls,
           const std::string& label) {
  c.polyline(pts, colour, ("class=\"" + cls + "\"").c_str());
  for (const auto& [x, y] : pts)
    if (std::isfinite(y))
      c.body += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" class=\"{}\"><title>{} at {}: {} ms</title>"
          "</circle>\n",
          c.x(x), c.y(std::min(y, c.y_max)), colour, cls, escape(label), shown(x), shown(y));
}

chart percentiles_chart(const sweep_results& r, std::uint64_t size) {
  chart c;
  c.title = fmt::format("latency at the highest rate sustained ({} {})", r.w->size_name, size);
  c.y_label = "latency ms";
  struct series {
    const char* name;
    double service_point_summary::*field;
  };
  const series all[] = {{"p50", &service_point_summary::p50},
                        {"p99", &service_point_summary::p99},
                        {"p99.9", &service_point_summary::p999},
                        {"max", &service_point_summary::max}};
  double n_max = 1, top = 0;
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    if (r.points[i].size != size) continue;
    n_max = std::max(n_max, static_cast<double>(r.points[i].workers));
    if (std::isfinite(r.service_points[i].max)) top = std::max(top, r.service_points[i].max * 1e3);
  }
  c.x_max = n_max + 1;
  c.y_max = nice_max(top * 1.1);
  std::size_t k = 0;
  for (const auto& s : all) {
    std::vector<std::pair<double, double>> pts;
    for (std::size_t i = 0; i < r.points.size(); ++i)
      if (r.points[i].size == size)
        pts.emplace_back(static_cast<double>(r.points[i].workers), r.service_points[i].*s.field * 1e3);
    std::sort(pts.begin(), pts.end());
    marks(c, pts, hue(k++), "percentile", s.name);
  }
  return c;
}

chart hockey_chart(const sweep_results& r, std::uint64_t size) {
  chart c;
  c.title = fmt::format("p99 latency against offered load ({} {})", r.w->size_name, size);
  c.y_label = "p99 latency ms";
  c.x_label = "offered requests/s";
  double x_top = 1, top = 0;
  for (const auto& s : r.steps) {
    if (r.points[s.point].size != size) continue;
    x_top = std::max(x_top, s.offered);
    if (std::isfinite(s.p99)) top = std::max(top, s.p99 * 1e3);
  }
  c.x_max = nice_max(x_top * 1.05);
  c.y_max = nice_max(top * 1.1);
  std::size_t k = 0;
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    if (r.points[i].size != size) continue;
    const char* colour = hue(k++);
    for (int rep = 0; rep < r.repeat; ++rep) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& s : r.steps)
        if (s.point == i && s.repeat == rep && s.ok > 0) pts.emplace_back(s.offered, s.p99 * 1e3);
      marks(c, pts, colour, "hockey", fmt::format("N={}", r.points[i].workers));
    }
  }
  return c;
}

std::string swatch(const char* colour, const std::string& label) {
  return fmt::format(
      "<span><svg width=\"14\" height=\"14\" aria-hidden=\"true\"><circle cx=\"7\" cy=\"7\" r=\"5\" "
      "fill=\"{}\"/></svg> {}</span> ",
      colour, escape(label));
}

}  // namespace

std::string service_legend(const sweep_results& r) {
  std::string out = "<p class=\"legend\">Percentiles: ";
  std::size_t k = 0;
  for (const char* name : {"p50", "p99", "p99.9", "max"}) out += swatch(hue(k++), name);
  out += "· hockey stick, per N: ";
  k = 0;  // the same colours for every size: the first size's points
  for (const auto& p : r.points)
    if (!r.sizes.empty() && p.size == r.sizes.front()) out += swatch(hue(k++), fmt::format("N={}", p.workers));
  return out + "</p>\n";
}

std::vector<std::pair<std::string, chart>> service_charts(const sweep_results& r) {
  std::vector<std::pair<std::string, chart>> out;
  if (r.service_points.size() != r.points.size() || r.points.empty()) return out;
  for (const auto size : r.sizes) {
    out.emplace_back(fmt::format("latency-{}", size), percentiles_chart(r, size));
    out.emplace_back(fmt::format("hockey-{}", size), hockey_chart(r, size));
  }
  return out;
}

}  // namespace scalekit::scale
