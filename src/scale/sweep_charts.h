#pragma once
// The charts of a sweep's report: built once, drawn inline in report.html
// and written as files of their own (charts/NAME.svg and NAME.png).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scalekit/core/executor.h"
#include "sweep_detail.h"

namespace scalekit::scale {

/// Text for HTML and SVG: & < > " escaped.
std::string escape(std::string_view s);
/// A figure as shown (4 significant digits, "–" for NaN) and exactly (17 digits, "NaN").
std::string shown(double v);
std::string exact(double v);
/// Colour-blind-safe hues (Okabe–Ito), one per executor.
const char* colour(core::executor_kind k);
std::string kind_name(core::executor_kind k);
/// The axis top for `v`: the smallest of 1, 2, 2.5, 5 times a power of ten at or above it (1 for none).
double nice_max(double v);

// One chart: x is N (linear, from 0 to x_max), y from y_min to y_max. Callers
// add marks in data coordinates through `x()` and `y()`.
struct chart {
  static constexpr double width = 640, height = 360, left = 64, right = 16, top = 28, bottom = 44;
  double x_max = 1, y_min = 0, y_max = 1;
  std::string title, y_label, body;
  std::string x_label = "workers N";

  [[nodiscard]] double x(double n) const { return left + (width - left - right) * n / x_max; }
  [[nodiscard]] double y(double v) const {
    return height - bottom - (height - top - bottom) * (v - y_min) / (y_max - y_min);
  }

  void polyline(const std::vector<std::pair<double, double>>& pts, const char* stroke, const char* extra) {
    if (pts.size() < 2) return;
    std::string d;
    for (const auto& [n, v] : pts)
      if (std::isfinite(v)) d += fmt::format("{:.1f},{:.1f} ", x(n), y(std::min(v, y_max)));
    body +=
        fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" {} points=\"{}\"/>\n", stroke, extra, d);
  }

  /// The chart's SVG; `standalone`: a file of its own (charts/*.svg, the
  /// PNGs), which carries the styles the page would give it and a background.
  [[nodiscard]] std::string svg(bool standalone = false) const;
};

/// Every chart of the report, named as its file in charts/ without the
/// extension ("throughput-3072"), in the page's order: per size the
/// throughput, speedup, efficiency, CPU and, where a model was fitted, residuals.
std::vector<std::pair<std::string, chart>> all_charts(const sweep_results& r);

/// A service sweep's latency charts (service_charts.cc), per size:
/// "latency-SIZE" (p50, p99, p99.9 and max against N) and "hockey-SIZE"
/// (p99 against the offered rate, one line per N); none for a jobs sweep.
std::vector<std::pair<std::string, chart>> service_charts(const sweep_results& r);
/// The colours of those charts' series, as a line of the page.
std::string service_legend(const sweep_results& r);

/// A jobs sweep's task latency charts (task_latency_report.cc), per size:
/// "tasks-SIZE" (p50 and p99 of the tasks' bodies against N, per executor);
/// none when no point timed its tasks.
std::vector<std::pair<std::string, chart>> task_latency_charts(const sweep_results& r);
/// The page's task latency section (a chart per size, a table with
/// data-value cells); "" when no point timed its tasks.
std::string task_latency_html(const sweep_results& r);

}  // namespace scalekit::scale
