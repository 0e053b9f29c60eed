// report.html: one self-contained page (inline SVG, no script, nothing fetched)
// with a sweep's charts, tables and warnings. Every number in its tables also
// carries its exact value in a data-value attribute, so a test can hold the
// page to results.json.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scalekit/scale/fit.h"
#include "scalekit/scale/sweep_plan.h"
#include "sweep_charts.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

// A table cell whose text is rounded and whose data-value is exact.
std::string cell(double v) { return fmt::format("<td data-value=\"{}\">{}</td>", exact(v), shown(v)); }

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
  // The charts by kind: throughput, then the per-point ones in a grid, then residuals.
  const auto charts = all_charts(r);
  const auto section = [&](std::string_view prefix) {
    std::string html;
    for (const auto& [name, c] : charts)
      if (name.rfind(prefix, 0) == 0) html += c.svg();
    return html;
  };
  out += "<h2>Throughput</h2>\n" + legend(r) + section("throughput-");
  out += "<h2>Speedup, efficiency and CPU</h2>\n<div class=\"grid\">\n" + section("speedup-") + section("efficiency-") +
         section("cpu-");
  if (const std::string residuals = section("residuals-"); !residuals.empty())
    out += "</div>\n<h2>Residuals of the fit</h2>\n<div class=\"grid\">\n" + residuals;
  out +=
      "</div>\n<h2>Points</h2>\n<p>Medians of the runs (min and max for throughput); PSS is the largest of the "
      "runs; speedup, efficiency and Karp–Flatt against the same executor with one worker.</p>\n";
  out += fmt::format("<p id=\"cpu-covers\">user s and sys s: {}.</p>\n", escape(cpu_covers(r)));
  out += points_table(r);
  out += task_latency_html(r);  // "" for a service sweep, whose latency is service_html's
  out += service_html(r);       // a service sweep's latency section; "" for a jobs sweep
  out += "<h2>Models</h2>\n" + models_table(r);
  out +=
      "<p>Also written beside this page: <a href=\"results.json\">results.json</a> (every figure here, and each "
      "run), <a href=\"results.csv\">results.csv</a> (one row per run) and each chart as SVG and PNG in "
      "<a href=\"charts/\">charts/</a>.</p>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace scalekit::scale
