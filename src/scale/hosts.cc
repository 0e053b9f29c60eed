// The `scale hosts` job (hosts.h): the testbed made, the broker started, the
// workloads run on 1..N hosts, the USL fitted and its predictions checked, a
// partition, everything torn down, the report.

#include "scalekit/scale/hosts.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <thread>

#include "hosts_run.h"
#include "hosts_testbed.h"
#include "scalekit/core/atomic_file.h"
#include "scalekit/core/input_file.h"
#include "scalekit/scale/machine.h"
#include "scalekit/scale/usl.h"
#include "scratch_dir.h"

namespace scalekit::scale {

namespace {

namespace fs = std::filesystem;
using namespace hosts_detail;
using clock = std::chrono::steady_clock;

status check(const hosts_options& o) {
  if (o.max_hosts < 3 || o.max_hosts > 16) return status::invalid_argument("--hosts must be in 3..16");
  if (o.fit_hosts < 2 || o.fit_hosts >= o.max_hosts)
    return status::invalid_argument(fmt::format("--fit-hosts must be in 2..{} (below --hosts)", o.max_hosts - 1));
  for (double c : {o.host_cpu, o.broker_cpu, o.client_cpu})
    if (!(c >= 0.01 && c <= 4)) return status::invalid_argument("CPU quotas must be in 0.01..4 CPUs");
  if (o.memory_mib < 32 || o.memory_mib > 65536) return status::invalid_argument("--memory must be in 32..65536 MiB");
  if (!(o.tolerance > 0 && o.tolerance < 10)) return status::invalid_argument("--tolerance must be in (0, 10)");
  if (o.width < 1 || o.height < 1 || o.iterations < 1 || o.width > 4096 || o.height > 4096)
    return status::invalid_argument("the image must be 1..4096 pixels a side, with 1 iteration or more");
  if (o.repeat < 1 || o.repeat > 100) return status::invalid_argument("--repeat must be in 1..100");
  if (o.tiny_tasks < 1 || o.tiny_tasks > 100000) return status::invalid_argument("--tiny-tasks must be in 1..100000");
  if (!(o.visibility_s >= 1 && o.visibility_s <= 3600))
    return status::invalid_argument("--visibility-timeout must be in 1..3600 s");
  if (::geteuid() != 0)
    return status::invalid_argument("needs root: it makes network namespaces and cgroups (run it with sudo)");
  return {};
}

// The image made locally, serially, no network: what every run must equal.
result<std::string> reference_image(const std::string& exe, const std::string& dir, const workload_spec& w) {
  const auto out = dir + "/reference-" + w.name + ".png";
  if (auto st = run_tool({exe, "-q", "mandelbrot", "-W", std::to_string(w.width), "-H", std::to_string(w.height), "-n",
                          std::to_string(w.iterations), "--executor", "serial", "-o", out});
      !st.ok())
    return st;
  return read_bytes(out);
}

// The broker in its namespace, ready when it says so; its pid.
result<pid_t> start_broker(testbed& tb, const std::string& dir, const core::observer& obs) {
  const auto path = find_program("redis-server");
  if (path.empty() || find_program("redis-cli").empty())
    return status::not_found("needs redis-server and redis-cli (Debian's redis-server package)");
  const auto log = dir + "/broker.log";
  auto pid = tb.spawn(tb.broker(),
                      {path, "--bind", tb.broker().ip, "--port", "6379", "--save", "", "--appendonly", "no",
                       "--protected-mode", "no", "--dir", dir, "--daemonize", "no"},
                      log, log);
  if (!pid.ok()) return pid.error();
  const auto start = clock::now();
  while (read_bytes(log).find("Ready to accept connections") == std::string::npos) {
    if (obs.stop_requested()) return status::cancelled("stopped");
    if (wait_child(*pid, 0) != -1 || clock::now() - start > std::chrono::seconds(20))
      return status::io_error("redis-server did not start: " + read_bytes(log));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return *pid;
}

// Two hosts are too few to fit three parameters (or two with any left to
// spare): Amdahl's law through both points exactly, λ = X(1), σ = 2λ/X(2) − 1,
// with no band (no degrees of freedom). The table says which it is.
result<fit_result> amdahl_through(const std::vector<measurement>& m) {
  if (m.size() != 2 || m[0].n != 1 || m[1].n != 2 || !(m[0].x > 0) || !(m[1].x > 0))
    return status::invalid_argument("need the throughput of 1 and 2 hosts");
  fit_result f;
  f.lambda.value = m[0].x;
  f.sigma_free = 2 * m[0].x / m[1].x - 1;
  f.superlinear = f.sigma_free < 0;
  f.sigma.value = std::max(0.0, f.sigma_free);
  f.sigma.at_bound = f.superlinear;
  f.kappa.at_bound = true;
  for (auto* e : {&f.lambda, &f.sigma, &f.kappa}) e->low = e->high = nan_value;
  f.r2 = 1;
  return f;
}

// The run of median throughput, with the spread of all and whether every
// run's image was exact.
run_result median_run(std::vector<run_result> runs) {
  std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.throughput < b.throughput; });
  run_result m = runs[runs.size() / 2];
  m.throughput_min = runs.front().throughput;
  m.throughput_max = runs.back().throughput;
  for (const auto& r : runs) m.image_exact = m.image_exact && r.image_exact;
  return m;
}

struct workload_result {
  workload_spec spec;
  std::vector<run_result> points;
  std::optional<fit_result> fit;
  std::string fit_error;
};

double percent(double v) { return 100 * v; }

// A field of a record: JSON only (the table says it).
core::report_field field(std::string key, core::report_value value) { return {std::move(key), std::move(value), ""}; }

core::report_record point_record(const run_result& p) {
  std::vector<core::report_record> hosts;
  for (std::size_t i = 0; i < p.tasks_per_host.size(); ++i)
    hosts.push_back({field("host", "h" + std::to_string(i + 1)), field("tasks", p.tasks_per_host[i])});
  return {field("hosts", static_cast<std::int64_t>(p.hosts)),
          field("wall_s", p.wall_s),
          field("job_s", p.job_s),
          field("throughput", p.throughput),
          field("throughput_min", p.throughput_min),
          field("throughput_max", p.throughput_max),
          field("tasks_per_host", std::move(hosts)),
          field("image_exact", p.image_exact),
          field("broker_cpu_s", p.broker_cpu_s),
          field("client_cpu_s", p.client_cpu_s)};
}

// The workload's table, its fit and predictions: text and report record.
std::pair<std::string, core::report_record> analyse(const workload_result& w, const hosts_options& o) {
  std::string t = fmt::format("{} ({}x{} n={}: {} tasks a run)\n", w.spec.name, w.spec.width, w.spec.height,
                              w.spec.iterations, w.spec.height);
  t += fmt::format("  {:>5} {:>10} {:>8} {:>8} {:>8}  {:<6} {}\n", "hosts", "tasks/s", "job s", "broker", "client",
                   "image", "tasks per host");
  std::vector<core::report_record> points;
  for (const auto& p : w.points) {
    std::string per;
    for (auto n : p.tasks_per_host) per += (per.empty() ? "" : " ") + std::to_string(n);
    t += fmt::format("  {:>5} {:>10.1f} {:>8.3f} {:>7.2f}s {:>7.2f}s  {:<6} {}\n", p.hosts, p.throughput, p.job_s,
                     p.broker_cpu_s, p.client_cpu_s, p.image_exact ? "exact" : "WRONG", per);
    points.push_back(point_record(p));
  }
  core::report_record rec{field("name", w.spec.name), field("unit", std::string("tasks")),
                          field("points", std::move(points))};
  if (!w.fit) {
    t += "  no fit: " + w.fit_error + "\n";
    rec.push_back(field("fit_error", w.fit_error));
    return {t, rec};
  }
  const auto& f = *w.fit;
  t += fmt::format("  {} on 1..{} hosts: λ={:.4g} tasks/s, σ={:.4g}, κ={:.4g}, R²={:.3f}{}\n",
                   o.fit_hosts >= 3 ? "USL fitted" : "Amdahl through the points", o.fit_hosts, f.lambda.value,
                   f.sigma.value, f.kappa.value, f.r2, f.superlinear ? " (superlinear: σ wanted < 0)" : "");
  rec.push_back(
      field("fit", std::vector<core::report_record>{{field("model", std::string(o.fit_hosts >= 3 ? "usl" : "amdahl")),
                                                     field("lambda", f.lambda.value), field("sigma", f.sigma.value),
                                                     field("kappa", f.kappa.value), field("r2", f.r2),
                                                     field("superlinear", f.superlinear)}}));
  t += fmt::format("  {:>5} {:>10} {:>21} {:>10} {:>7}  within ±{:.0f}%\n", "hosts", "predicted", "95% band",
                   "measured", "error", percent(o.tolerance));
  std::vector<core::report_record> preds;
  for (const auto& p : w.points) {
    if (p.hosts <= o.fit_hosts) continue;
    const double pred = usl_throughput(f.params(), p.hosts);
    const auto [lo, hi] = throughput_band(f, p.hosts);
    const double err = p.throughput > 0 ? std::abs(p.throughput - pred) / p.throughput : nan_value;
    const bool within = err <= o.tolerance;
    // Past twice the fitted range with no band to say how far off it may be.
    const bool unbounded = p.hosts > 2 * o.fit_hosts && !std::isfinite(lo);
    t += fmt::format("  {:>5} {:>10.1f} {:>10.1f}..{:<10.1f} {:>10.1f} {:>6.1f}%  {}{}\n", p.hosts, pred, lo, hi,
                     p.throughput, percent(err), within ? "yes" : "NO",
                     unbounded ? " (extrapolated past 2x the fitted hosts, no band: a guess)" : "");
    preds.push_back({field("hosts", static_cast<std::int64_t>(p.hosts)), field("predicted", pred), field("low", lo),
                     field("high", hi), field("measured", p.throughput), field("error", err),
                     field("within_tolerance", within), field("unbounded_extrapolation", unbounded)});
  }
  rec.push_back(field("predictions", std::move(preds)));
  return {t, rec};
}

}  // namespace

result<core::report> run_hosts(const hosts_options& o, core::observer& obs) {
  if (auto st = check(o); !st.ok()) return st;
  const auto start = clock::now();
  scratch_dir dir("scalekit-hosts");
  if (dir.path().empty()) return status::io_error("cannot make a temporary directory");
  std::error_code ec;
  const std::string exe = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) return status::io_error("cannot find scalekit's own binary: " + ec.message());

  std::vector<workload_result> results(2);
  results[0].spec = {"mandelbrot", o.width, o.height, o.iterations, {}};
  results[1].spec = {"tiny-tasks", 1, o.tiny_tasks, 1, {}};
  for (auto& w : results) {
    auto ref = reference_image(exe, dir.path(), w.spec);
    if (!ref.ok()) return ref.error();
    w.spec.reference = std::move(*ref);
  }

  obs.message(fmt::format(
      "{} emulated hosts of {} CPU and {} MiB each; the model fitted on 1..{} hosts must predict "
      "{}..{} within ±{:.0f}% (stated before the run)",
      o.max_hosts, o.host_cpu, o.memory_mib, o.fit_hosts, o.fit_hosts + 1, o.max_hosts, percent(o.tolerance)));
  auto tb = testbed::create(o.max_hosts, {o.host_cpu, o.broker_cpu, o.client_cpu, o.memory_mib << 20});
  if (!tb.ok()) return tb.error();
  testbed& bed = **tb;
  const auto cpu0 = read_cpu_times();
  const auto measure_start = clock::now();
  auto broker = start_broker(bed, dir.path(), obs);
  if (!broker.ok()) return broker.error();
  if (!o.report_dir.empty()) {
    if (auto st = core::make_output_dir(o.report_dir); !st.ok()) return st;
  }
  runner run(bed, dir.path(), exe, *broker, o.visibility_s, o.report_dir, obs);

  const std::uint64_t total =
      2 * static_cast<std::uint64_t>(o.max_hosts) * static_cast<std::uint64_t>(o.repeat) + (o.partition ? 1 : 0);
  std::uint64_t done = 0;
  for (auto& w : results) {
    for (int n = 1; n <= o.max_hosts; ++n) {
      std::vector<run_result> runs;
      for (int k = 0; k < o.repeat; ++k) {
        obs.progress(done, total, "runs");
        auto r = run.run(w.spec, n);
        if (!r.ok()) return r.error();
        runs.push_back(std::move(*r));
        ++done;
      }
      w.points.push_back(median_run(std::move(runs)));
    }
    std::vector<measurement> m;
    for (const auto& p : w.points)
      if (p.hosts <= o.fit_hosts) m.push_back({static_cast<double>(p.hosts), p.throughput, 0});
    auto f = m.size() >= 3 ? fit_usl(m) : amdahl_through(m);
    if (f.ok())
      w.fit = *f;
    else
      w.fit_error = f.error().message();
  }

  std::optional<run_result> part;
  if (o.partition) {
    obs.progress(done, total, "runs");
    const int n = std::min(o.max_hosts, 3);
    auto r = run.run(results[0].spec, n, true);
    if (!r.ok()) return r.error();
    part = std::move(*r);
    ++done;
  }
  obs.progress(done, total, "runs");
  // What the rest of the machine used meanwhile: all CPUs' busy time less the
  // emulation's (its cgroups' CPU, from their start).
  double ours = 0;
  for (const auto* n : bed.nodes()) ours += bed.cpu_seconds(*n);
  const auto cpu1 = read_cpu_times();
  double background_share = nan_value;
  if (cpu0 && cpu1) {
    const double busy = static_cast<double>(cpu1->busy - cpu0->busy) / ticks_per_second();
    const double capacity =
        std::chrono::duration<double>(clock::now() - measure_start).count() * describe_machine().cores;
    background_share = capacity > 0 ? std::max(0.0, busy - ours) / capacity : nan_value;
    if (background_share > 0.1)
      obs.message(fmt::format(
          "warning: other programs used {:.0f}% of the machine's CPU during the runs: hosts were time-sliced with "
          "them and the figures are suspect",
          percent(background_share)));
  }
  const auto torn = bed.teardown();
  const auto left = bed.leftovers();

  core::report rep("scale hosts");
  rep.work = fmt::format("1..{} emulated hosts, {} runs", o.max_hosts, done);
  rep.items = static_cast<double>(done);
  rep.unit = "runs";
  std::string table;
  std::vector<core::report_record> workloads;
  for (const auto& w : results) {
    auto [text, rec] = analyse(w, o);
    table += text;
    workloads.push_back(std::move(rec));
  }
  rep.add("run_id", bed.run_id(), "");
  rep.add("cgroup", bed.cgroup_kind(), "cgroup {}");
  rep.add("host_cpu", o.host_cpu, "");
  rep.add("emulation_cpu_s", ours, "");
  rep.add("background_share", background_share, "");
  rep.add("tolerance", o.tolerance, "");
  rep.add("fit_hosts", static_cast<std::int64_t>(o.fit_hosts), "");
  rep.add("link_delay", std::string("not modelled (no netem on this kernel)"), "");
  rep.add("workloads", std::move(workloads), "");
  bool ok = true;
  for (const auto& w : results)
    for (const auto& p : w.points) ok = ok && p.image_exact;
  if (part) {
    const auto& base = results[0].points[static_cast<std::size_t>(part->hosts - 1)];
    const double extra = part->wall_s - base.wall_s;
    const bool cut = part->down_at_s >= 0;
    const double recovery = cut ? part->wall_s - part->down_at_s : nan_value;
    if (cut)
      table += fmt::format(
          "partition: {} hosts, h{}'s link cut {:.2f} s into the job; the job completed {:.2f} s later, in {:.2f} s "
          "(without the cut {:.2f} s: {:+.2f} s), {} task(s) redelivered after the {} s visibility timeout, h{} "
          "finished {}, image {}\n",
          part->hosts, part->hosts, part->down_at_s, recovery, part->wall_s, base.wall_s, extra, part->restored,
          o.visibility_s, part->hosts, part->down_host_tasks, part->image_exact ? "exact" : "WRONG");
    else
      table += fmt::format("partition: h{} received no task before the job ended: no link was cut\n", part->hosts);
    rep.add("partition",
            std::vector<core::report_record>{
                {field("hosts", static_cast<std::int64_t>(part->hosts)),
                 field("down_host", "h" + std::to_string(part->hosts)), field("link_cut", cut),
                 field("down_at_s", part->down_at_s), field("recovery_s", recovery), field("wall_s", part->wall_s),
                 field("baseline_wall_s", base.wall_s), field("extra_s", extra), field("completed", true),
                 field("image_exact", part->image_exact), field("restored", part->restored),
                 field("down_host_tasks", part->down_host_tasks), field("visibility_s", o.visibility_s)}},
            "");
    ok = ok && part->image_exact && cut;
  }
  std::string leftovers;
  for (const auto& l : left) leftovers += (leftovers.empty() ? "" : ", ") + l;
  rep.add("leftovers", leftovers, "");
  if (!left.empty()) {
    obs.message("scale hosts: left behind: " + leftovers);
    ok = false;
  }
  if (!torn.ok()) obs.message("scale hosts: teardown: " + torn.message());
  obs.output(table);
  if (!ok) rep.failures = 1;
  if (!o.report_dir.empty()) rep.add("report_dir", o.report_dir, "report in {}");
  rep.elapsed = clock::now() - start;
  if (!o.report_dir.empty()) {
    if (auto st = core::atomic_file::write_whole(o.report_dir + "/results.json", rep.to_json() + "\n"); !st.ok())
      return st;
  }
  return rep;
}

}  // namespace scalekit::scale
