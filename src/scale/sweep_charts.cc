// The charts of a sweep's report (sweep_charts.h): inline SVG built by hand
// (a few lines, axes, points, a band), no chart library, so that report.html
// stays one file that fetches nothing; PNGs are the same SVG drawn by
// librsvg's rsvg-convert.

#include "sweep_charts.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "scalekit/core/atomic_file.h"
#include "scalekit/scale/fit.h"

namespace scalekit::scale {

double nice_max(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (v <= m * p) return m * p;
  return 10 * p;
}

namespace {

// The charts' styles: the page's, and inside each standalone chart file.
constexpr const char* chart_style =
    ".axis{stroke:#444} .t{font:600 14px sans-serif} .xt{font:11px sans-serif;text-anchor:middle} "
    ".yt{font:11px sans-serif;text-anchor:end} .yl{font:11px sans-serif;text-anchor:middle} .spread{stroke-width:1.5}";

const model_summary* model_of(const sweep_results& r, core::executor_kind k, std::uint64_t size) {
  for (const auto& m : r.models)
    if (m.executor == k && m.size == size) return &m;
  return nullptr;
}

// Throughput against N for one size: the points with their spread, the
// linear bound, and where fitted the USL (dashed past the largest N
// measured, with its 95% band) and Amdahl's ceiling.
chart throughput_chart(const sweep_results& r, std::uint64_t size, const std::string& unit) {
  chart c;
  c.title = fmt::format("{} per second against workers ({} {})", unit, r.w->size_name, size);
  c.y_label = unit + "/s";
  double n_max = 1, x_top = 0;
  for (const auto& s : r.summaries) {
    if (s.point.size != size) continue;
    n_max = std::max(n_max, static_cast<double>(s.point.workers));
    x_top = std::max(x_top, s.throughput.max);
  }
  const bool any_fit =
      std::any_of(r.models.begin(), r.models.end(), [&](const auto& m) { return m.size == size && m.fitted(); });
  c.x_max = any_fit ? 2 * n_max : n_max + 1;
  for (const auto& m : r.models)
    if (m.size == size && m.fitted() && std::isfinite(m.predict_high)) x_top = std::max(x_top, m.predict_high);
  c.y_max = nice_max(x_top * 1.1);
  for (const auto k : r.executors) {
    const char* hue = colour(k);
    std::vector<std::pair<double, double>> measured;
    double x1 = 0;
    for (const auto& s : r.summaries) {
      if (s.point.size != size || s.point.executor != k) continue;
      const double n = static_cast<double>(s.point.workers);
      if (s.point.workers == 1) x1 = s.throughput.median;
      measured.emplace_back(n, s.throughput.median);
      c.body += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\" class=\"spread\"/>\n",
          c.x(n), c.y(s.throughput.min), c.y(s.throughput.max), hue);
      c.body += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" class=\"point\" data-executor=\"{}\" "
          "data-workers=\"{}\" data-value=\"{}\"><title>{} N={}: {} {}/s</title></circle>\n",
          c.x(n), c.y(s.throughput.median), hue, kind_name(k), s.point.workers, exact(s.throughput.median),
          kind_name(k), s.point.workers, shown(s.throughput.median), escape(unit));
    }
    if (x1 > 0 && k != core::executor_kind::serial)  // the linear bound: N times one worker
    {
      const double n_end = std::min(c.x_max, c.y_max / x1);  // where it leaves the chart: its slope kept
      c.polyline({{1, x1}, {n_end, x1 * n_end}}, hue, "stroke-dasharray=\"2 4\" opacity=\"0.5\" class=\"linear\"");
    }
    const auto* m = model_of(r, k, size);
    if (m == nullptr || !m->fitted()) continue;
    std::vector<std::pair<double, double>> inside, beyond, low, high;
    for (double n = 1; n <= c.x_max + 1e-9; n += c.x_max / 100) {
      const double v = usl_throughput(m->usl->params(), n);
      (n <= m->max_n ? inside : beyond).emplace_back(n, v);
      if (n >= m->max_n) {
        const auto [lo, hi] = throughput_band(*m->usl, n);
        low.emplace_back(n, lo);
        high.emplace_back(n, hi);
      }
    }
    if (!inside.empty()) beyond.insert(beyond.begin(), inside.back());
    c.polyline(inside, hue, "class=\"usl\"");
    c.polyline(beyond, hue, "stroke-dasharray=\"6 4\" class=\"usl extrapolation\"");
    if (!low.empty() && std::all_of(low.begin(), low.end(), [](const auto& p) { return std::isfinite(p.second); })) {
      std::string d;
      for (const auto& [n, v] : high) d += fmt::format("{:.1f},{:.1f} ", c.x(n), c.y(std::min(v, c.y_max)));
      for (auto it = low.rbegin(); it != low.rend(); ++it)
        d += fmt::format("{:.1f},{:.1f} ", c.x(it->first), c.y(std::clamp(it->second, 0.0, c.y_max)));
      c.body += fmt::format("<polygon points=\"{}\" fill=\"{}\" opacity=\"0.12\" class=\"band\"/>\n", d, hue);
    }
    if (std::isfinite(m->ceiling) && m->ceiling <= c.y_max)
      c.body += fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-dasharray=\"1 3\" "
          "class=\"ceiling\"/>\n",
          c.x(0), c.y(m->ceiling), c.x(c.x_max), c.y(m->ceiling), hue);
  }
  return c;
}

// Speedup or efficiency (or CPU seconds per run) against N, per executor.
template <typename Value>
chart per_point_chart(const sweep_results& r, std::uint64_t size, const std::string& title, const std::string& y_label,
                      double y_floor, Value value, bool ideal_line) {
  chart c;
  c.title = title;
  c.y_label = y_label;
  double n_max = 1, top = y_floor;
  for (const auto& s : r.summaries) {
    if (s.point.size != size) continue;
    n_max = std::max(n_max, static_cast<double>(s.point.workers));
    if (std::isfinite(value(s))) top = std::max(top, value(s));
  }
  c.x_max = n_max + 1;
  c.y_max = nice_max(std::max(top, ideal_line ? n_max : 0.0) * 1.1);
  if (ideal_line) c.polyline({{0, 0}, {c.x_max, c.x_max}}, "#999999", "stroke-dasharray=\"2 4\" class=\"linear\"");
  for (const auto k : r.executors) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& s : r.summaries) {
      if (s.point.size != size || s.point.executor != k || !std::isfinite(value(s))) continue;
      const double n = static_cast<double>(s.point.workers);
      pts.emplace_back(n, value(s));
      c.body +=
          fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{} N={}: {}</title></circle>\n",
                      c.x(n), c.y(std::min(value(s), c.y_max)), colour(k), kind_name(k), s.point.workers,
                      shown(value(s)));
    }
    c.polyline(pts, colour(k), "");
  }
  return c;
}

// The fit's residuals: each point's median against the USL's throughput at
// its N, in percent of the fitted value. Noise scatters around zero; a bow or
// a trend says the model misses something. nullopt: nothing fitted.
std::optional<chart> residuals_chart(const sweep_results& r, std::uint64_t size) {
  chart c;
  c.title = fmt::format("residuals of the USL fit ({} {})", r.w->size_name, size);
  c.y_label = "measured - fitted, % of fitted";
  double n_max = 1, worst = 0;
  std::vector<std::pair<core::executor_kind, std::vector<std::pair<double, double>>>> series;
  for (const auto k : r.executors) {
    const auto* m = model_of(r, k, size);
    if (m == nullptr || !m->fitted()) continue;
    auto& pts = series.emplace_back(k, std::vector<std::pair<double, double>>{}).second;
    for (const auto& s : r.summaries) {
      if (s.point.size != size || s.point.executor != k) continue;
      const double n = static_cast<double>(s.point.workers), fitted = usl_throughput(m->usl->params(), n);
      if (!(fitted > 0) || !std::isfinite(s.throughput.median)) continue;
      pts.emplace_back(n, 100 * (s.throughput.median - fitted) / fitted);
      n_max = std::max(n_max, n);
      worst = std::max(worst, std::abs(pts.back().second));
    }
  }
  if (series.empty()) return std::nullopt;
  c.x_max = n_max + 1;
  c.y_max = nice_max(std::max(worst, 0.5) * 1.2);
  c.y_min = -c.y_max;
  c.polyline({{0, 0}, {c.x_max, 0}}, "#999999", "stroke-dasharray=\"2 4\" class=\"zero\"");
  for (const auto& [k, pts] : series) {
    for (const auto& [n, v] : pts)
      c.body += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" class=\"residual\" data-executor=\"{}\" "
          "data-workers=\"{}\" data-value=\"{}\"><title>{} N={}: {}%</title></circle>\n",
          c.x(n), c.y(v), colour(k), kind_name(k), n, exact(v), kind_name(k), n, shown(v));
    c.polyline(pts, colour(k), "opacity=\"0.5\"");
  }
  return c;
}

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string shown(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "–"; }
std::string exact(double v) { return std::isfinite(v) ? fmt::format("{:.17g}", v) : "NaN"; }

// Colour-blind-safe hues (Okabe–Ito), one per executor.
const char* colour(core::executor_kind k) {
  switch (k) {
    case core::executor_kind::serial: return "#000000";
    case core::executor_kind::threads: return "#0072B2";
    case core::executor_kind::processes: return "#D55E00";
    case core::executor_kind::openmp: return "#009E73";
    default: return "#CC79A7";
  }
}

std::string kind_name(core::executor_kind k) { return std::string(core::to_string(k)); }

std::string chart::svg(bool standalone) const {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\"{2} role=\"img\" aria-label=\"{3}\">\n"
      "<title>{3}</title>\n",
      width, height, standalone ? fmt::format(" width=\"{}\" height=\"{}\"", width, height) : "", escape(title));
  if (standalone)
    out += fmt::format("<style>{}</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", chart_style);
  out += fmt::format("<text x=\"{}\" y=\"18\" class=\"t\">{}</text>\n", left, escape(title));
  const double base = y(std::max(y_min, 0.0));
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"axis\"/>\n", left, base, x(x_max));
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" class=\"axis\"/>\n", left, y(y_min), y(y_max));
  for (int i = 0; i <= 4; ++i) {  // y ticks
    const double v = y_min + (y_max - y_min) * i / 4;
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"yt\">{}</text>\n", left - 6, y(v) + 4, shown(v));
  }
  const double step = std::max(1.0, std::ceil(x_max / 8));
  for (double n = 0; n <= x_max + 1e-9; n += step)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"xt\">{}</text>\n", x(n), height - bottom + 16, n);
  out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"xt\">{}</text>\n", (left + width - right) / 2, height - 6,
                     escape(x_label));
  out += fmt::format("<text x=\"14\" y=\"{:.1f}\" class=\"yl\" transform=\"rotate(-90 14 {:.1f})\">{}</text>\n",
                     (top + height - bottom) / 2, (top + height - bottom) / 2, escape(y_label));
  return out + body + "</svg>\n";
}

std::vector<std::pair<std::string, chart>> all_charts(const sweep_results& r) {
  const std::string unit = r.summaries.empty() ? "items" : r.summaries.front().unit;
  std::vector<std::pair<std::string, chart>> out;
  for (const auto size : r.sizes) {
    const std::string of = fmt::format(" ({} {})", r.w->size_name, size), tag = fmt::format("-{}", size);
    out.emplace_back("throughput" + tag, throughput_chart(r, size, unit));
    out.emplace_back("speedup" + tag, per_point_chart(
                                          r, size, "speedup against workers" + of, "speedup", 1,
                                          [](const point_summary& s) { return s.speedup; }, true));
    out.emplace_back("efficiency" + tag, per_point_chart(
                                             r, size, "efficiency against workers" + of, "efficiency", 1,
                                             [](const point_summary& s) { return s.efficiency; }, false));
    out.emplace_back("cpu" + tag, per_point_chart(
                                      r, size, "CPU seconds per run (user + system)" + of, "CPU s", 0,
                                      [](const point_summary& s) { return s.user_s + s.sys_s; }, false));
    // What a task costs as N grows: contention and coherency show here as CPU
    // spent per unit of work, where throughput alone hides them.
    const auto per_task = [](const point_summary& s) {
      return s.tasks.tasks > 0 ? 1e3 * (s.user_s + s.sys_s) / static_cast<double>(s.tasks.tasks) : task_latency::none;
    };
    if (std::any_of(r.summaries.begin(), r.summaries.end(),
                    [&](const point_summary& s) { return s.point.size == size && std::isfinite(per_task(s)); }))
      out.emplace_back("cpu-per-task" + tag, per_point_chart(r, size, "CPU milliseconds per task (user + system)" + of,
                                                             "CPU ms per task", 0, per_task, false));
    if (auto c = residuals_chart(r, size)) out.emplace_back("residuals" + tag, std::move(*c));
  }
  for (auto& c : task_latency_charts(r)) out.push_back(std::move(c));
  for (auto& c : service_charts(r)) out.push_back(std::move(c));
  return out;
}

status write_chart_files(const sweep_results& r, const std::string& dir, core::observer& obs) {
  const std::string charts = dir + "/charts";
  std::error_code ec;
  std::filesystem::create_directories(charts, ec);
  if (ec) return status::io_error(fmt::format("cannot make '{}': {}", charts, ec.message()));
  bool can_draw = true;
  for (const auto& [name, c] : all_charts(r)) {
    const std::string svg = charts + "/" + name + ".svg", png = charts + "/" + name + ".png";
    if (auto st = core::atomic_file::write_whole(svg, c.svg(true)); !st.ok()) return st;
    if (!can_draw) continue;
    // The PNG through a temporary name, renamed once rsvg-convert has succeeded: whole or absent.
    const std::string partial = png + ".partial";
    std::vector<std::string> args{"rsvg-convert", "--format", "png", "--output", partial, svg};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (const int e = ::posix_spawnp(&pid, "rsvg-convert", nullptr, nullptr, argv.data(), environ); e != 0) {
      obs.message(fmt::format("note: charts/*.png not drawn: cannot run rsvg-convert ({}; Debian's librsvg2-bin)",
                              std::strerror(e)));
      can_draw = false;
      continue;
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || ::rename(partial.c_str(), png.c_str()) != 0) {
      ::unlink(partial.c_str());
      obs.message(fmt::format("note: {} not drawn: rsvg-convert failed (status {})", png, st));
    }
  }
  return {};
}

}  // namespace scalekit::scale
