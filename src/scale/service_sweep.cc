// `scale SERVICE` (service_sweep.h): per N, start the server, ramp an
// open-loop load up to saturation, stop the server; then the jobs' analysis
// and report, with the latency figures beside them.

#include "scalekit/scale/service_sweep.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "proc_usage.h"
#include "pss.h"
#include "scalekit/core/input_file.h"
#include "scratch_dir.h"
#include "service_load.h"
#include "service_process.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

using clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_of(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

status check_options(const service_sweep_options& o, const service_workload& s, sweep_results& r,
                     open_loop::arrival& arrival) {
  const auto& w = s.w;
  if (o.repeat < 1 || o.repeat > 100)
    return status::invalid_argument(fmt::format("--repeat {} is outside 1..100", o.repeat));
  if (!(o.step_s >= 0.05 && o.step_s <= 60))
    return status::invalid_argument(fmt::format("--step {} is outside 0.05..60 seconds", o.step_s));
  if (!(o.rate_factor >= 1.05 && o.rate_factor <= 10))
    return status::invalid_argument(fmt::format("--rate-factor {} is outside 1.05..10", o.rate_factor));
  if (!(o.start_rate >= 0 && o.start_rate <= 1e6) || !(o.max_rate >= 1 && o.max_rate <= 1e6))
    return status::invalid_argument("--start-rate and --max-rate are requests per second, up to 1000000");
  if (!(o.timeout_s >= 0.01 && o.timeout_s <= 60))
    return status::invalid_argument(fmt::format("--timeout {} is outside 0.01..60 seconds", o.timeout_s));
  const auto a = open_loop::parse_arrival(o.arrival);
  if (!a) return status::invalid_argument(fmt::format("--arrival '{}': poisson or constant", o.arrival));
  arrival = *a;
  if (auto st = o.report_dir.empty() ? status() : core::check_output_dir(o.report_dir); !st.ok()) return st;
  r.executors = w.executors;
  r.workers = o.workers.empty() ? s.default_workers : o.workers;
  for (const auto n : r.workers)
    if (n < 1 || n > 256) return status::invalid_argument(fmt::format("--workers {} is outside 1..256", n));
  r.repeat = o.repeat;
  return choose_sizes_and_seed(w, o.sizes, o.seed, r);
}

// One run of a point: the server up, the rate ramped to saturation, the server down.
struct point_run {
  run_record record;
  std::vector<load_step> steps;
  bool server_died = false;
};

result<point_run> run_point(const service_workload& s, const sweep_results& r, std::size_t index, int repeat,
                            const service_sweep_options& o, open_loop::arrival arrival, const std::string& dir,
                            core::observer& obs, const std::function<void()>& tick) {
  const auto& p = r.points[index];
  running_service svc;
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
  if (auto st = start_service(s, p.workers, p.size, fmt::format("{}/server-{}-{}", dir, index, repeat), timeout, svc);
      !st.ok())
    return st;
  service_process& server = *svc.server;
  const auto& send = svc.request;
  point_run out;
  out.record.point = index;
  out.record.repeat = repeat;
  auto& sample = out.record.sample;
  sample.unit = "requests";
  const auto t_start = clock::now();
  const auto usage_start = usage_of_tree(server.pid());
  // The helpers' (worker's Redis) CPU, counted apart from the server's.
  const auto helpers_cpu = [&svc] {
    double sum = 0;
    for (const auto& h : svc.helpers) sum += usage_of_tree(h->pid()).cpu_s;
    return sum;
  };
  double rate = o.start_rate > 0 ? o.start_rate : s.start_rate;
  const auto step = std::chrono::nanoseconds(static_cast<std::int64_t>(o.step_s * 1e9));
  open_loop::step_options so;
  so.timeout = std::chrono::nanoseconds(static_cast<std::int64_t>(o.timeout_s * 1e9));
  so.stop = [&obs] { return obs.stop_requested(); };
  for (int k = 0;; ++k) {
    rate = std::min(rate, o.max_rate);
    const auto times = open_loop::schedule(arrival, rate, step, r.seed ^ (index * 7919 + repeat * 104729 + k));
    const auto u0 = usage_of_tree(server.pid());
    const double h0 = helpers_cpu();
    open_loop::step_result res;
    open_loop::run_step(times, step, send, so, res);
    const auto du = usage_of_tree(server.pid()) - u0;
    const double dh = helpers_cpu() - h0;
    const bool died = server.has_exited();  // then the step's server figures are unknown
    if (obs.stop_requested()) return status::cancelled("the sweep was stopped");
    load_step ls;
    ls.point = index;
    ls.repeat = repeat;
    ls.offered = res.offered_rate();
    ls.achieved = res.achieved_rate();
    ls.sent = res.sent;
    ls.ok = res.ok;
    ls.errors = res.errors;
    ls.timeouts = res.timeouts;
    ls.held = res.held;
    const auto q = [&](double f) { return seconds_of(res.latency.percentile(f)); };
    ls.p50 = q(0.5);
    ls.p99 = q(0.99);
    ls.p999 = q(0.999);
    ls.max = seconds_of(res.latency.max());
    ls.lag_p99 = seconds_of(res.lag.percentile(0.99));
    ls.lag_max = seconds_of(res.lag.max());
    ls.generator_cpu = res.elapsed_s > 0 ? res.generator_cpu_s / res.elapsed_s : 0;
    const double good = static_cast<double>(res.ok);
    const double nan = std::nan("");
    ls.server_user = good > 0 && !died ? du.user_s / good : nan;
    ls.server_sys = good > 0 && !died ? du.sys_s / good : nan;
    ls.server_cpu = good > 0 && !died ? du.cpu_s / good : nan;
    ls.broker_cpu = good > 0 && !svc.helpers.empty() ? dh / good : nan;
    ls.voluntary_switches = died ? nan : static_cast<double>(du.voluntary_switches);
    ls.involuntary_switches = died ? nan : static_cast<double>(du.involuntary_switches);
    if (!died) sample.peak_pss_kib = std::max(sample.peak_pss_kib, pss_of_tree(std::to_string(server.pid())));
    const double failed = static_cast<double>(res.errors + res.timeouts);
    ls.saturated =
        ls.achieved < 0.9 * ls.offered || failed > 0.01 * static_cast<double>(std::max<std::uint64_t>(res.sent, 1));
    ls.generator_bound = ls.lag_p99 > 1e-3 || ls.generator_cpu > 0.9;
    out.steps.push_back(ls);
    sample.items += good;
    sample.failures += res.errors + res.timeouts;
    tick();
    if (died) {
      out.server_died = true;
      obs.message(fmt::format("warning: the {} server (N={}) ended during the run; its requests count as errors",
                              s.w.name, p.workers));
      break;
    }
    if (ls.saturated || rate >= o.max_rate) break;
    rate *= o.rate_factor;
  }
  const auto used = usage_of_tree(server.pid()) - usage_start;
  sample.wall_s = seconds_of(clock::now() - t_start);
  sample.user_s = out.server_died ? 0 : used.user_s;
  sample.sys_s = out.server_died ? 0 : used.sys_s;
  sample.voluntary_switches = out.server_died ? 0 : static_cast<std::int64_t>(used.voluntary_switches);
  sample.involuntary_switches = out.server_died ? 0 : static_cast<std::int64_t>(used.involuntary_switches);
  double best = 0;
  for (const auto& ls : out.steps) best = std::max(best, ls.achieved);
  out.record.throughput = best;
  return out;
}

double median_of(std::vector<double> v) { return spread_of(std::move(v)).median; }

// The per-point latency summaries (service_detail.h).
void summarize_services(sweep_results& r) {
  r.service_points.assign(r.points.size(), {});
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    auto& sp = r.service_points[i];
    std::vector<double> sustained, p50, p99, p999, mx, user, sys, cpu, broker, lag, gen;
    for (int rep = 0; rep < r.repeat; ++rep) {
      const load_step* last_good = nullptr;
      const load_step* best = nullptr;
      for (const auto& ls : r.steps) {
        if (ls.point != i || ls.repeat != rep) continue;
        if (!ls.saturated) last_good = &ls;
        if (best == nullptr || ls.achieved > best->achieved) best = &ls;
      }
      if (best != nullptr && best->generator_bound) sp.generator_bound = true;
      if (last_good == nullptr) continue;
      sustained.push_back(last_good->offered);
      p50.push_back(last_good->p50);
      p99.push_back(last_good->p99);
      p999.push_back(last_good->p999);
      mx.push_back(last_good->max);
      user.push_back(last_good->server_user);
      sys.push_back(last_good->server_sys);
      cpu.push_back(last_good->server_cpu);
      broker.push_back(last_good->broker_cpu);
      lag.push_back(last_good->lag_p99);
      gen.push_back(last_good->generator_cpu);
    }
    const double nan = std::nan("");
    sp.sustained = sustained.empty() ? nan : median_of(sustained);
    sp.p50 = sustained.empty() ? nan : median_of(p50);
    sp.p99 = sustained.empty() ? nan : median_of(p99);
    sp.p999 = sustained.empty() ? nan : median_of(p999);
    sp.max = sustained.empty() ? nan : median_of(mx);
    sp.server_user = sustained.empty() ? nan : median_of(user);
    sp.server_sys = sustained.empty() ? nan : median_of(sys);
    sp.server_cpu = sustained.empty() ? nan : median_of(cpu);
    sp.broker_cpu = sustained.empty() ? nan : median_of(broker);
    sp.lag_p99 = sustained.empty() ? nan : median_of(lag);
    sp.generator_cpu = sustained.empty() ? nan : median_of(gen);
  }
}

}  // namespace

std::vector<service_workload_info> service_workloads() {
  std::vector<service_workload_info> out;
  for (const auto& s : service_workload_table())
    out.push_back(
        {std::string(s.w.name), fmt::format("Sweep {} under open-loop load, N = {}: {} (default {} {})", s.w.name,
                                            s.knob, s.w.about, s.w.size_name, s.w.default_sizes.front())});
  return out;
}

result<core::report> run_service_sweep(const service_sweep_options& o, core::observer& obs) {
  const auto start = clock::now();
  const service_workload* s = find_service_workload(o.workload);
  if (s == nullptr) return status::invalid_argument(fmt::format("'{}' is not a service scale loads", o.workload));
  sweep_results r;
  r.w = &s->w;
  r.machine = describe_machine();
  open_loop::arrival arrival = open_loop::arrival::poisson;
  if (auto st = check_options(o, *s, r, arrival); !st.ok()) return st;
  r.points = plan_points(r.executors, r.workers, r.sizes);
  const auto order = shuffled_runs(r.points.size(), r.repeat, r.seed);

  if (auto st = check_background_load(r, o.require_idle, "throughput may be low and latency high", obs); !st.ok())
    return st;
  scratch_dir scratch;
  if (scratch.path().empty()) return status::io_error("cannot make a scratch directory in $TMPDIR or /tmp");

  const auto cpu0 = read_cpu_times();
  const auto runs_start = clock::now();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto tick = [&] {
      const double per_run = i > 0 ? std::chrono::duration<double>(clock::now() - runs_start).count() / i : 0;
      obs.progress(i, order.size(),
                   i > 0 ? fmt::format("runs, ~{:.0f} s left", per_run * (order.size() - i)) : std::string("runs"));
    };
    obs.progress(i, order.size(), "runs");
    if (obs.stop_requested()) return status::cancelled("the sweep was stopped");
    auto run = run_point(*s, r, order[i].point, order[i].repeat, o, arrival, scratch.path(), obs, tick);
    if (!run.ok()) return run.error();
    r.runs.push_back(std::move(run->record));
    r.steps.insert(r.steps.end(), run->steps.begin(), run->steps.end());
  }
  obs.progress(order.size(), order.size(), "runs");
  // Other programs' CPU during the sweep: the machine's busy time minus the
  // server's, its broker's and the generator's (all ours), estimated from the steps.
  if (const auto cpu1 = read_cpu_times(); cpu0 && cpu1) {
    double ours = 0;
    for (const auto& run : r.runs) ours += run.sample.user_s + run.sample.sys_s;
    for (const auto& ls : r.steps)  // the broker's (worker's Redis) is ours too
      if (std::isfinite(ls.broker_cpu)) ours += ls.broker_cpu * static_cast<double>(ls.ok);
    rusage self{};
    ::getrusage(RUSAGE_SELF, &self);
    ours += static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
            static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
    const double busy = static_cast<double>(cpu1->busy - cpu0->busy) / ticks_per_second();
    const double capacity = std::chrono::duration<double>(clock::now() - runs_start).count() * r.machine.cores;
    r.background_cpu_s = std::max(0.0, busy - ours);
    r.background_share = capacity > 0 ? r.background_cpu_s / capacity : 0;
  }

  analyse(r);
  summarize_services(r);
  if (std::any_of(r.service_points.begin(), r.service_points.end(), [](const auto& sp) { return sp.generator_bound; }))
    obs.message(
        "warning: the load generator was late or busy at some saturation steps: those N may be "
        "generator-bound (lag_p99_s, generator_cpu in load_steps)");
  obs.output(text_table(r) + service_text(r));
  core::report rep("scale");
  rep.work =
      fmt::format("{}: {} points x {} runs, {} load steps", s->w.name, r.points.size(), r.repeat, r.steps.size());
  rep.items = static_cast<double>(r.steps.size());
  rep.unit = "steps";
  add_fields(rep, r);
  add_service_fields(rep, r, std::string(open_loop::to_string(arrival)), o.step_s);
  if (!o.report_dir.empty()) rep.add("report_dir", o.report_dir, "report in {}");
  rep.elapsed = clock::now() - start;
  if (!o.report_dir.empty())
    if (auto st = write_report_files(r, rep, service_csv_rows(r), o.report_dir, obs); !st.ok()) return st;
  return rep;
}

}  // namespace scalekit::scale
