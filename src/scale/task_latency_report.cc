// A jobs sweep's task latency (sweep_detail.h's task_latency_text,
// sweep_charts.h's task_latency_charts and task_latency_html): the time
// inside each task's body, per point, as the summary's table, a chart of p50
// and p99 against N per executor, and the page's table.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sweep_charts.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

std::string ms(double s) { return std::isfinite(s) ? fmt::format("{:.3g}", s * 1e3) : "-"; }

std::string cell(double v) { return fmt::format("<td data-value=\"{}\">{}</td>", exact(v), shown(v)); }

bool any_tasks(const sweep_results& r) {
  return std::any_of(r.summaries.begin(), r.summaries.end(), [](const auto& s) { return s.tasks.tasks > 0; });
}

// p50 (solid) and p99 (dashed) against N, one colour per executor.
chart latency_chart(const sweep_results& r, std::uint64_t size) {
  chart c;
  c.title = fmt::format("task latency: p50 solid, p99 dashed ({} {})", r.w->size_name, size);
  c.y_label = "ms in a task's body";
  double n_max = 1, top = 0;
  for (const auto& s : r.summaries) {
    if (s.point.size != size || s.tasks.tasks == 0) continue;
    n_max = std::max(n_max, static_cast<double>(s.point.workers));
    if (std::isfinite(s.tasks.p99)) top = std::max(top, s.tasks.p99 * 1e3);
  }
  c.x_max = n_max + 1;
  c.y_max = nice_max(top * 1.1);
  for (const auto k : r.executors) {
    struct series {
      const char* name;
      double task_latency::*field;
      const char* dash;
    };
    for (const series s : {series{"p50", &task_latency::p50, ""}, series{"p99", &task_latency::p99, "6 4"}}) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& p : r.summaries)
        if (p.point.size == size && p.point.executor == k && p.tasks.tasks > 0)
          pts.emplace_back(static_cast<double>(p.point.workers), p.tasks.*s.field * 1e3);
      c.polyline(pts, colour(k), *s.dash ? fmt::format("stroke-dasharray=\"{}\"", s.dash).c_str() : "");
      for (const auto& [n, v] : pts)
        c.body += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" class=\"task-{}\" data-executor=\"{}\" "
            "data-workers=\"{}\"><title>{} N={}: task {} {} ms</title></circle>\n",
            c.x(n), c.y(std::min(v, c.y_max)), colour(k), s.name, kind_name(k), n, kind_name(k), n, s.name, shown(v));
    }
  }
  return c;
}

}  // namespace

std::string task_latency_text(const sweep_results& r) {
  if (!any_tasks(r)) return "";
  std::string out = fmt::format(
      "\ntask latency: the time inside each task's body (distributed: on the workers, from their logs), "
      "medians of the runs' percentiles\n{:<11} {:>3} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
      "executor", "N", "size", "tasks", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
  for (const auto& s : r.summaries)
    out += fmt::format("{:<11} {:>3} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}\n", kind_name(s.point.executor),
                       std::to_string(s.point.workers) + (s.oversubscribed ? "*" : ""), s.point.size, s.tasks.tasks,
                       ms(s.tasks.p50), ms(s.tasks.p99), ms(s.tasks.p999), ms(s.tasks.max));
  return out;
}

std::vector<std::pair<std::string, chart>> task_latency_charts(const sweep_results& r) {
  std::vector<std::pair<std::string, chart>> out;
  if (!any_tasks(r)) return out;
  for (const auto size : r.sizes) out.emplace_back(fmt::format("tasks-{}", size), latency_chart(r, size));
  return out;
}

std::string task_latency_html(const sweep_results& r) {
  if (!any_tasks(r)) return "";
  std::string out =
      "<h2>Task latency</h2>\n<p>The time inside each task's body (the executor's timing of each call; for "
      "distributed points, the run time each worker logs for its tasks), as percentiles of each run's tasks "
      "(histogram buckets of about 6%), the median of the runs.</p>\n<div class=\"grid\">\n";
  for (const auto& [name, c] : task_latency_charts(r)) out += c.svg();
  out +=
      "</div>\n<table id=\"task-latency\"><thead><tr><th>executor</th><th>N</th><th>size</th><th>tasks</th>"
      "<th>p50 s</th><th>p99 s</th><th>p99.9 s</th><th>max s</th></tr></thead><tbody>\n";
  for (const auto& s : r.summaries) {
    out +=
        fmt::format("<tr data-executor=\"{}\" data-workers=\"{}\" data-size=\"{}\"><td>{}</td><td>{}</td><td>{}</td>",
                    kind_name(s.point.executor), s.point.workers, s.point.size, kind_name(s.point.executor),
                    s.point.workers, s.point.size);
    for (const double v : {static_cast<double>(s.tasks.tasks), s.tasks.p50, s.tasks.p99, s.tasks.p999, s.tasks.max})
      out += cell(v);
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

}  // namespace scalekit::scale
