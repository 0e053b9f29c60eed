// report.html: one self-contained page (inline SVG, no script, nothing fetched)
// with a sweep's charts, tables and warnings. Every number in its tables also
// carries its exact value in a data-value attribute, so a test can hold the
// page to results.json.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "scalekit/scale/fit.h"
#include "scalekit/scale/sweep_plan.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

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

// A table cell whose text is rounded and whose data-value is exact.
std::string cell(double v) { return fmt::format("<td data-value=\"{}\">{}</td>", exact(v), shown(v)); }

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

// One chart: x is N (linear, from 0 to x_max), y from 0 to y_max. Callers
// add marks in data coordinates through `x()` and `y()`.
struct chart {
  static constexpr double width = 640, height = 360, left = 64, right = 16, top = 28, bottom = 44;
  double x_max = 1, y_max = 1;
  std::string title, y_label, body;

  [[nodiscard]] double x(double n) const { return left + (width - left - right) * n / x_max; }
  [[nodiscard]] double y(double v) const { return height - bottom - (height - top - bottom) * v / y_max; }

  void polyline(const std::vector<std::pair<double, double>>& pts, const char* stroke, const char* extra) {
    if (pts.size() < 2) return;
    std::string d;
    for (const auto& [n, v] : pts)
      if (std::isfinite(v)) d += fmt::format("{:.1f},{:.1f} ", x(n), y(std::min(v, y_max)));
    body +=
        fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" {} points=\"{}\"/>\n", stroke, extra, d);
  }

  [[nodiscard]] std::string svg() const {
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n"
        "<title>{}</title>\n<text x=\"{}\" y=\"18\" class=\"t\">{}</text>\n",
        width, height, escape(title), escape(title), left, escape(title));
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"axis\"/>\n", left, y(0), x(x_max));
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" class=\"axis\"/>\n", left, y(0), y(y_max));
    for (int i = 0; i <= 4; ++i) {  // y ticks
      const double v = y_max * i / 4;
      out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"yt\">{}</text>\n", left - 6, y(v) + 4, shown(v));
    }
    const double step = std::max(1.0, std::ceil(x_max / 8));
    for (double n = 0; n <= x_max + 1e-9; n += step)
      out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"xt\">{}</text>\n", x(n), height - bottom + 16, n);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"xt\">workers N</text>\n", (left + width - right) / 2,
                       height - 6);
    out += fmt::format("<text x=\"14\" y=\"{:.1f}\" class=\"yl\" transform=\"rotate(-90 14 {:.1f})\">{}</text>\n",
                       (top + height - bottom) / 2, (top + height - bottom) / 2, escape(y_label));
    return out + body + "</svg>\n";
  }
};

double nice_max(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (v <= m * p) return m * p;
  return 10 * p;
}

const model_summary* model_of(const sweep_results& r, core::executor_kind k, std::uint64_t size) {
  for (const auto& m : r.models)
    if (m.executor == k && m.size == size) return &m;
  return nullptr;
}

// Throughput against N for one size: the points with their spread, the
// linear bound, and where fitted the USL (dashed past the largest N
// measured, with its 95% band) and Amdahl's ceiling.
std::string throughput_chart(const sweep_results& r, std::uint64_t size, const std::string& unit) {
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
      c.polyline({{1, x1}, {c.x_max, x1 * c.x_max}}, hue, "stroke-dasharray=\"2 4\" opacity=\"0.5\" class=\"linear\"");
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
  return c.svg();
}

// Speedup or efficiency (or CPU seconds per run) against N, per executor.
template <typename Value>
std::string per_point_chart(const sweep_results& r, std::uint64_t size, const std::string& title,
                            const std::string& y_label, double y_floor, Value value, bool ideal_line) {
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
  return c.svg();
}

std::string legend(const sweep_results& r) {
  std::string out = "<p class=\"legend\">";
  for (const auto k : r.executors)
    out += fmt::format(
        "<span><svg width=\"14\" height=\"14\" aria-hidden=\"true\"><circle cx=\"7\" cy=\"7\" r=\"5\" "
        "fill=\"{}\"/></svg> {}</span> ",
        colour(k), kind_name(k));
  return out +
         "· dotted: N × one worker (linear) · solid: the USL fitted · dashed with a band: its extrapolation and 95% "
         "band · sparse dots: Amdahl's ceiling · vertical bars: min–max of the runs</p>\n";
}

std::string points_table(const sweep_results& r) {
  std::string out =
      "<table id=\"points\"><thead><tr><th>executor</th><th>N</th><th>size</th><th>median /s</th><th>min /s</th>"
      "<th>max /s</th><th>wall s</th><th>user s</th><th>sys s</th><th>vcsw</th><th>ivcsw</th><th>PSS KiB</th>"
      "<th>speedup</th><th>efficiency</th><th>Karp–Flatt</th></tr></thead><tbody>\n";
  for (const auto& s : r.summaries) {
    out += fmt::format(
        "<tr data-executor=\"{}\" data-workers=\"{}\" data-size=\"{}\"{}><td>{}</td><td>{}{}</td><td>{}</td>",
        kind_name(s.point.executor), s.point.workers, s.point.size, s.oversubscribed ? " class=\"over\"" : "",
        kind_name(s.point.executor), s.point.workers, s.oversubscribed ? "*" : "", s.point.size);
    for (const double v :
         {s.throughput.median, s.throughput.min, s.throughput.max, s.wall_s.median, s.user_s, s.sys_s,
          s.voluntary_switches, s.involuntary_switches, s.peak_pss_kib, s.speedup, s.efficiency, s.karp_flatt})
      out += cell(v);
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string models_table(const sweep_results& r) {
  std::string out =
      "<table id=\"models\"><thead><tr><th>executor</th><th>size</th><th>distinct N</th><th>verdict</th><th>λ</th>"
      "<th>σ</th><th>κ</th><th>R²</th><th>peak N*</th><th>Amdahl ceiling</th><th>X(2·N<sub>max</sub>), 95% band</th>"
      "</tr></thead><tbody>\n";
  for (const auto& m : r.models) {
    out += fmt::format("<tr data-executor=\"{}\" data-size=\"{}\"><td>{}</td><td>{}</td><td>{}</td>",
                       kind_name(m.executor), m.size, kind_name(m.executor), m.size, m.distinct_n);
    if (!m.fitted()) {
      out += fmt::format("<td colspan=\"8\">{}</td></tr>\n",
                         escape(enough_for_model(m.distinct_n)
                                    ? "no fit: " + m.fit_error
                                    : fmt::format("{} ({} distinct N, {} needed)", thin_data_verdict, m.distinct_n,
                                                  min_distinct_for_model)));
      continue;
    }
    const auto& u = *m.usl;
    out += std::string("<td>fitted") + (u.superlinear ? "; <strong>superlinear</strong> (σ &lt; 0, not clamped)" : "") +
           "</td>";
    out += cell(u.lambda.value) + cell(m.sigma) + cell(u.kappa.value) + cell(u.r2);
    out += m.peak_n ? fmt::format("<td data-value=\"{}\">{}{}</td>", exact(*m.peak_n), shown(*m.peak_n),
                                  m.peak_too_far()      ? " (beyond 2·N<sub>max</sub>: no throughput predicted)"
                                  : *m.peak_n > m.max_n ? " (extrapolation)"
                                                        : "")
                    : "<td>none</td>";
    out += cell(m.ceiling);
    out += fmt::format("<td data-value=\"{}\">{} [{}, {}] at N={} (extrapolation)</td></tr>\n", exact(m.predict_x),
                       shown(m.predict_x), shown(m.predict_low), shown(m.predict_high), shown(m.predict_n));
  }
  return out + "</tbody></table>\n";
}

std::vector<std::string> warnings(const sweep_results& r) {
  std::vector<std::string> out;
  if (r.before.busy_cores > 0.25)
    out.push_back(fmt::format("Other programs kept {} cores busy before the sweep: the figures are suspect.",
                              shown(r.before.busy_cores)));
  if (r.background_share > 0.1)
    out.push_back(fmt::format("Other programs used {:.0f}% of the CPU during the sweep: the figures are suspect.",
                              100 * r.background_share));
  if (std::any_of(r.summaries.begin(), r.summaries.end(), [](const auto& s) { return s.oversubscribed; }))
    out.push_back(fmt::format("Points marked * have more workers than the {} cores: oversubscribed.", r.machine.cores));
  if (std::any_of(r.models.begin(), r.models.end(), [](const auto& m) { return !enough_for_model(m.distinct_n); }))
    out.push_back(
        fmt::format("Thin data: with fewer than {} distinct N only speedup, efficiency and Karp–Flatt are "
                    "reported, and no model is fitted.",
                    min_distinct_for_model));
  if (std::any_of(r.models.begin(), r.models.end(), [](const auto& m) { return m.fitted() && m.usl->superlinear; }))
    out.push_back("A fit wants σ < 0 (superlinear scaling): shown as found, not clamped.");
  if (r.w->weak) out.push_back("Weak scaling: each worker does the same work, so the work grows with N.");
  return out;
}

}  // namespace

std::string html_report(const sweep_results& r) {
  const auto& mc = r.machine;
  const std::string unit = r.summaries.empty() ? "items" : r.summaries.front().unit;
  std::string out = fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>scalekit scale {0}</title>\n<style>\n"
      "body{{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#111}}\n"
      "svg{{max-width:100%;height:auto;display:block;margin:.5em 0}} .legend svg{{display:inline;margin:0}} "
      ".axis{{stroke:#444}}\n"
      ".t{{font-weight:600;font-size:14px}} .xt{{font-size:11px;text-anchor:middle}} "
      ".yt{{font-size:11px;text-anchor:end}} .yl{{font-size:11px;text-anchor:middle}}\n"
      ".spread{{stroke-width:1.5}} table{{border-collapse:collapse;font-size:13px;margin:.5em 0;display:block;"
      "overflow-x:auto}}\n"
      "th,td{{border:1px solid #ccc;padding:2px 6px;text-align:right}} th{{background:#f2f2f2}} "
      "td:first-child{{text-align:left}}\n"
      ".over td{{color:#6b4e00}} .warn{{background:#fff4d6;border-left:4px solid #c48a00;padding:.4em .8em}}\n"
      ".legend span{{margin-right:1em;white-space:nowrap}} .grid{{display:grid;grid-template-columns:repeat(auto-fit,"
      "minmax(min(26em,100%),1fr));gap:1em}}\n"
      "</style>\n</head>\n<body>\n<main>\n<h1>scalekit scale {0}</h1>\n<p>{1}</p>\n",
      escape(r.w->name), escape(r.w->about));
  out += fmt::format(
      "<p id=\"machine\">{} points × {} runs in shuffled order (seed {}) on {}, {} cores, {}, {}{}. Before the sweep "
      "{} cores were busy (load average {}); other programs used {} CPU-seconds ({:.1f}%) during it.</p>\n",
      r.points.size(), r.repeat, r.seed, escape(mc.cpu_model.empty() ? "an unknown CPU" : mc.cpu_model), mc.cores,
      escape(mc.kernel), escape(mc.build), mc.git_revision.empty() ? "" : ", git " + escape(mc.git_revision),
      shown(r.before.busy_cores), shown(r.before.load1), shown(r.background_cpu_s), 100 * r.background_share);
  const auto warns = warnings(r);
  if (!warns.empty()) {
    out += "<div class=\"warn\" id=\"warnings\"><h2>Warnings</h2><ul>\n";
    for (const auto& w : warns) out += "<li>" + escape(w) + "</li>\n";
    out += "</ul></div>\n";
  }
  out += "<h2>Throughput</h2>\n" + legend(r);
  for (const auto size : r.sizes) out += throughput_chart(r, size, unit);
  out += "<h2>Speedup, efficiency and CPU</h2>\n<div class=\"grid\">\n";
  for (const auto size : r.sizes) {
    const std::string of = fmt::format(" ({} {})", r.w->size_name, size);
    out += per_point_chart(
        r, size, "speedup against workers" + of, "speedup", 1, [](const point_summary& s) { return s.speedup; }, true);
    out += per_point_chart(
        r, size, "efficiency against workers" + of, "efficiency", 1,
        [](const point_summary& s) { return s.efficiency; }, false);
    out += per_point_chart(
        r, size, "CPU seconds per run (user + system)" + of, "CPU s", 0,
        [](const point_summary& s) { return s.user_s + s.sys_s; }, false);
  }
  out +=
      "</div>\n<h2>Points</h2>\n<p>Medians of the runs (min and max for throughput); PSS is the largest of the "
      "runs; speedup, efficiency and Karp–Flatt against the same executor with one worker.</p>\n";
  out += points_table(r);
  out += "<h2>Models</h2>\n" + models_table(r);
  out +=
      "<p>Also written beside this page: <a href=\"results.json\">results.json</a> (every figure here, and each "
      "run) and <a href=\"results.csv\">results.csv</a> (one row per run).</p>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace scalekit::scale
