// A service sweep's own report parts (sweep_detail.h): the latency table on
// the terminal, results.csv's load steps, the report's fields, and the page's
// latency section.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sweep_charts.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

std::string ms(double s) { return std::isfinite(s) ? fmt::format("{:.3g}", s * 1e3) : "-"; }
std::string us(double s) { return std::isfinite(s) ? fmt::format("{:.3g}", s * 1e6) : "-"; }
std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "-"; }

std::string cell(double v) { return fmt::format("<td data-value=\"{}\">{}</td>", exact(v), shown(v)); }

}  // namespace

std::string service_text(const sweep_results& r) {
  if (r.service_points.empty()) return "";
  // The broker's column only for a service with one (worker's Redis).
  const bool broker = std::any_of(r.service_points.begin(), r.service_points.end(),
                                  [](const auto& sp) { return std::isfinite(sp.broker_cpu); });
  std::string out = fmt::format(
      "\nlatency at the highest offered rate each N sustained (medians of the runs; from the intended send time):\n"
      "{:>3} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>11} {:>10}{} {:>10} {:>8}\n",
      "N", "saturation", "sustained", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "CPU us/req", "user us/req",
      "sys us/req", broker ? fmt::format(" {:>13}", "broker us/req") : "", "lag p99 us", "gen CPU");
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    const auto& sp = r.service_points[i];
    out += fmt::format("{:>3} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>11} {:>10}{} {:>10} {:>7.0f}%{}\n",
                       r.points[i].workers, num(r.summaries[i].throughput.median), num(sp.sustained), ms(sp.p50),
                       ms(sp.p99), ms(sp.p999), ms(sp.max), us(sp.server_cpu), us(sp.server_user), us(sp.server_sys),
                       broker ? fmt::format(" {:>13}", us(sp.broker_cpu)) : "", us(sp.lag_p99), 100 * sp.generator_cpu,
                       sp.generator_bound ? " generator-bound" : "");
  }
  if (broker) out += "CPU us/req is the server's process tree; broker us/req is its Redis broker's, counted apart\n";
  out += fmt::format("{} load steps in results.json (load_steps) and results.csv\n", r.steps.size());
  return out;
}

std::string service_csv_rows(const sweep_results& r) {
  std::string out =
      "order,workers,size,repeat,offered,achieved,sent,ok,errors,timeouts,held,latency_p50_s,latency_p99_s,"
      "latency_p999_s,latency_max_s,lag_p99_s,lag_max_s,generator_cpu,server_cpu_s_per_request,"
      "server_user_s_per_request,server_sys_s_per_request,voluntary_switches,involuntary_switches,saturated,generator_"
      "bound,broker_cpu_s_per_request\n";
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const auto& s = r.steps[i];
    const auto& p = r.points[s.point];
    out += fmt::format(
        "{},{},{},{},{:.6g},{:.6g},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.4g},{:.6g},"
        "{:.6g},{:.6g},{},{},{},{},{:.6g}\n",
        i, p.workers, p.size, s.repeat, s.offered, s.achieved, s.sent, s.ok, s.errors, s.timeouts, s.held, s.p50, s.p99,
        s.p999, s.max, s.lag_p99, s.lag_max, s.generator_cpu, s.server_cpu, s.server_user, s.server_sys,
        s.voluntary_switches, s.involuntary_switches, s.saturated ? 1 : 0, s.generator_bound ? 1 : 0, s.broker_cpu);
  }
  return out;
}

void add_service_fields(core::report& rep, const sweep_results& r, const std::string& arrival, double step_s) {
  rep.add("arrival", arrival, "");
  rep.add("step_s", step_s, "");
  std::vector<core::report_record> steps;
  for (const auto& s : r.steps) {
    const auto& p = r.points[s.point];
    steps.push_back({{"workers", static_cast<std::uint64_t>(p.workers), ""},
                     {"size", p.size, ""},
                     {"repeat", static_cast<std::int64_t>(s.repeat), ""},
                     {"offered", s.offered, ""},
                     {"achieved", s.achieved, ""},
                     {"sent", s.sent, ""},
                     {"ok", s.ok, ""},
                     {"errors", s.errors, ""},
                     {"timeouts", s.timeouts, ""},
                     {"held", s.held, ""},
                     {"latency_p50_s", s.p50, ""},
                     {"latency_p99_s", s.p99, ""},
                     {"latency_p999_s", s.p999, ""},
                     {"latency_max_s", s.max, ""},
                     {"lag_p99_s", s.lag_p99, ""},
                     {"lag_max_s", s.lag_max, ""},
                     {"generator_cpu", s.generator_cpu, ""},
                     {"server_cpu_s_per_request", s.server_cpu, ""},
                     {"server_user_s_per_request", s.server_user, ""},
                     {"server_sys_s_per_request", s.server_sys, ""},
                     {"broker_cpu_s_per_request", s.broker_cpu, ""},
                     {"voluntary_switches", s.voluntary_switches, ""},
                     {"involuntary_switches", s.involuntary_switches, ""},
                     {"saturated", s.saturated, ""},
                     {"generator_bound", s.generator_bound, ""}});
  }
  rep.add("load_steps", std::move(steps), "");
  std::vector<core::report_record> latency;
  for (std::size_t i = 0; i < r.service_points.size(); ++i) {
    const auto& sp = r.service_points[i];
    latency.push_back({{"workers", static_cast<std::uint64_t>(r.points[i].workers), ""},
                       {"size", r.points[i].size, ""},
                       {"saturation_throughput", r.summaries[i].throughput.median, ""},
                       {"sustained_rate", sp.sustained, ""},
                       {"latency_p50_s", sp.p50, ""},
                       {"latency_p99_s", sp.p99, ""},
                       {"latency_p999_s", sp.p999, ""},
                       {"latency_max_s", sp.max, ""},
                       {"server_cpu_s_per_request", sp.server_cpu, ""},
                       {"server_user_s_per_request", sp.server_user, ""},
                       {"server_sys_s_per_request", sp.server_sys, ""},
                       {"broker_cpu_s_per_request", sp.broker_cpu, ""},
                       {"lag_p99_s", sp.lag_p99, ""},
                       {"generator_cpu", sp.generator_cpu, ""},
                       {"generator_bound", sp.generator_bound, ""}});
  }
  rep.add("latency", std::move(latency), "");
}

std::string service_html(const sweep_results& r) {
  if (r.service_points.empty()) return "";
  std::string out =
      "<h2>Latency under load</h2>\n<p>Open-loop load: requests sent on a schedule whatever the answers, latency "
      "from each request's intended send time. Throughput above is the saturation throughput of each N (the "
      "largest rate of good answers while the offered rate rose step by step). CPU per request is the server's "
      "process tree's; a broker's (worker's Redis) is its own column.</p>\n";
  out += service_legend(r) + "<div class=\"grid\">\n";
  for (const auto& [name, c] : service_charts(r)) out += c.svg();
  out +=
      "</div>\n<p>At the highest offered rate each N sustained (medians of the runs); the server's CPU per good "
      "answer; the generator's own schedule lag and CPU, which say whether it kept up.</p>\n"
      "<table id=\"latency\"><thead><tr><th>N</th><th>size</th><th>saturation /s</th><th>sustained /s</th>"
      "<th>p50 s</th><th>p99 s</th><th>p99.9 s</th><th>max s</th><th>CPU s/request</th><th>user s/request</th>"
      "<th>sys s/request</th><th>lag p99 s</th><th>generator CPU</th><th>broker CPU s/request</th></tr></thead>"
      "<tbody>\n";
  for (std::size_t i = 0; i < r.service_points.size(); ++i) {
    const auto& sp = r.service_points[i];
    out += fmt::format("<tr data-workers=\"{}\" data-size=\"{}\"><td>{}{}</td><td>{}</td>", r.points[i].workers,
                       r.points[i].size, r.points[i].workers, sp.generator_bound ? " (generator-bound)" : "",
                       r.points[i].size);
    for (const double v : {r.summaries[i].throughput.median, sp.sustained, sp.p50, sp.p99, sp.p999, sp.max,
                           sp.server_cpu, sp.server_user, sp.server_sys, sp.lag_p99, sp.generator_cpu, sp.broker_cpu})
      out += cell(v);
    out += "</tr>\n";
  }
  out +=
      "</tbody></table>\n<h3>Load steps</h3>\n<table id=\"load-steps\"><thead><tr><th>N</th><th>run</th>"
      "<th>offered /s</th><th>achieved /s</th><th>errors</th><th>timeouts</th><th>p50 s</th><th>p99 s</th>"
      "<th>p99.9 s</th><th>max s</th><th>CPU s/request</th><th>vcsw</th><th>ivcsw</th>"
      "<th>lag p99 s</th><th>generator CPU</th><th>broker CPU s/request</th></tr></thead><tbody>\n";
  for (const auto& s : r.steps) {
    out += fmt::format("<tr data-workers=\"{}\"{}><td>{}</td><td>{}</td>", r.points[s.point].workers,
                       s.saturated ? " class=\"over\"" : "", r.points[s.point].workers, s.repeat + 1);
    for (const double v :
         {s.offered, s.achieved, static_cast<double>(s.errors), static_cast<double>(s.timeouts), s.p50, s.p99, s.p999,
          s.max, s.server_cpu, s.voluntary_switches, s.involuntary_switches, s.lag_p99, s.generator_cpu, s.broker_cpu})
      out += cell(v);
    out += "</tr>\n";
  }
  return out +
         "</tbody></table>\n<p>Shaded rows: saturated steps (good answers below 90% of the offered rate, or "
         "more than 1% errors and timeouts).</p>\n";
}

}  // namespace scalekit::scale
