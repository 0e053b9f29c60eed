// The `scale WORKLOAD` job (sweep.h): plan, check the machine, run every
// point `repeat` times in shuffled order, analyse, report.

#include "scalekit/scale/sweep.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <random>
#include <system_error>

#include "distributed_point.h"
#include "scalekit/core/input_file.h"
#include "scratch_dir.h"
#include "sweep_detail.h"

namespace scalekit::scale {

namespace {

using clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

status check_options(const sweep_options& o, const workload& w, sweep_results& r) {
  if (o.repeat < 1 || o.repeat > 1000)
    return status::invalid_argument(fmt::format("--repeat {} is outside 1..1000", o.repeat));
  if (auto st = o.report_dir.empty() ? status() : core::check_output_dir(o.report_dir); !st.ok()) return st;
  std::string allowed;
  for (const auto k : w.executors) allowed += (allowed.empty() ? "" : ", ") + std::string(core::to_string(k));
  // By default the local executors: the distributed one starts servers (redis-server) and is asked for by name.
  if (o.executors.empty())
    std::copy_if(w.executors.begin(), w.executors.end(), std::back_inserter(r.executors),
                 [](core::executor_kind k) { return k != core::executor_kind::distributed; });
  for (const auto& name : o.executors) {
    const auto k = core::parse_executor_kind(name);
    if (k == core::executor_kind::distributed && !w.no_distributed.empty())
      return status::invalid_argument(fmt::format("{} has no distributed form: {}", w.name, w.no_distributed));
    if (!k || std::find(w.executors.begin(), w.executors.end(), *k) == w.executors.end())
      return status::invalid_argument(
          fmt::format("'{}' is not an executor a {} sweep runs on ({})", name, w.name, allowed));
    if (std::find(r.executors.begin(), r.executors.end(), *k) == r.executors.end()) r.executors.push_back(*k);
  }
  r.workers = o.workers;
  if (r.workers.empty() && !w.default_workers.empty()) r.workers = w.default_workers;
  if (r.workers.empty())
    for (std::size_t n = 1; n <= r.machine.cores; ++n) r.workers.push_back(n);
  for (const auto n : r.workers)
    if (n < 1 || n > 1024) return status::invalid_argument(fmt::format("--workers {} is outside 1..1024", n));
  r.repeat = o.repeat;
  return choose_sizes_and_seed(w, o.sizes, o.seed, r);
}

}  // namespace

status check_background_load(sweep_results& r, bool require_idle, std::string_view effect, core::observer& obs) {
  r.before = sample_load(std::chrono::milliseconds(500));
  if (r.before.busy_cores <= idle_busy_cores) return {};
  const std::string busy =
      fmt::format("the machine is busy: {:.2f} cores in use by other programs (load average {:.2f})",
                  r.before.busy_cores, r.before.load1);
  if (require_idle) return status::task_failed(busy + "; --require-idle refuses to measure");
  obs.message(fmt::format("warning: {}; {} (--require-idle refuses)", busy, effect));
  return {};
}

status choose_sizes_and_seed(const workload& w, const std::vector<std::uint64_t>& sizes, std::uint64_t seed,
                             sweep_results& r) {
  r.sizes = sizes.empty() ? w.default_sizes : sizes;
  for (const auto s : r.sizes)
    if (s < w.min_size || s > w.max_size)
      return status::invalid_argument(
          fmt::format("--sizes {}: the {} of a {} sweep is {}..{}", s, w.size_name, w.name, w.min_size, w.max_size));
  r.seed = seed != 0 ? seed
                     : static_cast<std::uint64_t>(clock::now().time_since_epoch().count()) ^
                           (static_cast<std::uint64_t>(::getpid()) << 32);
  return {};
}

std::string sweep_workload_names() {
  std::string out;
  for (const auto& w : workloads()) out += (out.empty() ? "" : ", ") + std::string(w.name);
  return out;
}

std::vector<sweep_workload_info> sweep_workloads() {
  std::vector<sweep_workload_info> out;
  for (const auto& w : workloads()) {
    std::string sizes;
    for (const auto s : w.default_sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
    std::string kinds;
    for (const auto k : w.executors) kinds += (kinds.empty() ? "" : ",") + std::string(core::to_string(k));
    out.push_back(
        {std::string(w.name),
         fmt::format("Sweep {} over executors and workers: {} (default {}: {})", w.name, w.about, w.size_name, sizes),
         kinds});
  }
  return out;
}

result<core::report> run_sweep(const sweep_options& o, core::observer& obs) {
  const auto start = clock::now();
  const workload* w = find_workload(o.workload);
  if (w == nullptr)
    return status::invalid_argument(
        fmt::format("'{}' is not a workload scale sweeps ({})", o.workload, sweep_workload_names()));
  sweep_results r;
  r.w = w;
  r.machine = describe_machine();
  if (auto st = check_options(o, *w, r); !st.ok()) return st;
  r.points = plan_points(r.executors, r.workers, r.sizes);
  const auto order = shuffled_runs(r.points.size(), r.repeat, r.seed);

  if (auto st = check_background_load(r, o.require_idle, "throughput may be low and spread wide", obs); !st.ok())
    return st;
  if (!w->waits && std::any_of(r.workers.begin(), r.workers.end(), [&](std::size_t n) { return n > r.machine.cores; }))
    obs.message(fmt::format("note: points with more than {} workers are oversubscribed (this machine has {} cores)",
                            r.machine.cores, r.machine.cores));

  scratch_dir scratch;
  if (scratch.path().empty()) return status::io_error("cannot make a scratch directory in $TMPDIR or /tmp");
  const auto dir_of = [&](std::uint64_t size) { return scratch.path() + "/" + std::to_string(size); };
  for (const auto size : r.sizes) {
    if (auto st = core::make_output_dir(dir_of(size)); !st.ok()) return st;
    if (w->prepare)
      if (auto st = w->prepare(size, dir_of(size)); !st.ok()) return st;
  }

  // The CPU others use during the sweep: the machine's busy time minus ours.
  const auto cpu0 = read_cpu_times();
  rusage self0{}, kids0{};
  ::getrusage(RUSAGE_SELF, &self0);
  ::getrusage(RUSAGE_CHILDREN, &kids0);
  const auto runs_start = clock::now();

  std::vector<double> spent(r.points.size(), 0);  // seconds of each point's finished runs
  std::vector<int> done_of(r.points.size(), 0);
  double spent_all = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& run = order[i];
    const auto& p = r.points[run.point];
    const auto t0 = clock::now();
    // The time left: each remaining run as long as its point's earlier runs, or the mean run.
    const auto progress = [&] {
      std::string unit = "runs";
      if (i > 0) {
        double left = 0;
        for (std::size_t k = i; k < order.size(); ++k) {
          const auto q = order[k].point;
          left += done_of[q] > 0 ? spent[q] / done_of[q] : spent_all / static_cast<double>(i);
        }
        left = std::max(0.0, left - seconds(clock::now() - t0));
        unit += fmt::format(", ~{:.0f} s left", left);
      }
      obs.progress(i, order.size(), unit);
      return obs.stop_requested();
    };
    if (progress()) return status::cancelled("the sweep was stopped");
    auto s = p.executor == core::executor_kind::distributed ? measure_distributed(*w, p, dir_of(p.size), progress, obs)
                                                            : measure_point(*w, p, dir_of(p.size), progress);
    if (!s.ok()) {
      if (s.error().code() != status_code::cancelled)
        obs.message(fmt::format("{} -j {} at {} {}: the run failed", core::to_string(p.executor), p.workers,
                                w->size_name, p.size));
      return s.error();
    }
    if (s->failures > 0)
      obs.message(fmt::format("{} -j {}: {} items failed in run {}", core::to_string(p.executor), p.workers,
                              s->failures, run.repeat + 1));
    const double took = seconds(clock::now() - t0);
    spent[run.point] += took;
    ++done_of[run.point];
    spent_all += took;
    const double x = s->wall_s > 0 ? s->items / s->wall_s : 0;
    r.runs.push_back({run.point, run.repeat, std::move(*s), x});
  }
  obs.progress(order.size(), order.size(), "runs");

  const auto cpu1 = read_cpu_times();
  rusage self1{}, kids1{};
  ::getrusage(RUSAGE_SELF, &self1);
  ::getrusage(RUSAGE_CHILDREN, &kids1);
  if (cpu0 && cpu1) {
    const double busy = static_cast<double>(cpu1->busy - cpu0->busy) / ticks_per_second();
    const double ours = cpu_seconds(self1) - cpu_seconds(self0) + cpu_seconds(kids1) - cpu_seconds(kids0);
    const double capacity = seconds(clock::now() - runs_start) * r.machine.cores;
    r.background_cpu_s = std::max(0.0, busy - ours);
    r.background_share = capacity > 0 ? r.background_cpu_s / capacity : 0;
    if (r.background_share > 0.1)
      obs.message(
          fmt::format("warning: other programs used {:.0f}% of the CPU during the sweep: the figures are "
                      "suspect",
                      100 * r.background_share));
  }

  // The distributed runs' output, byte for byte against the local executors'
  // (after the CPU count: a reference run made here is no run of the sweep).
  std::uint64_t compared = 0;
  if (!w->output.empty())
    for (const auto size : r.sizes)
      if (std::any_of(r.points.begin(), r.points.end(), [&](const sweep_point& p) {
            return p.size == size && p.executor == core::executor_kind::distributed;
          })) {
        auto bytes = check_distributed_output(*w, size, dir_of(size));
        if (!bytes.ok()) return bytes.error();
        compared += *bytes;
      }

  analyse(r);
  obs.output(text_table(r));
  core::report rep("scale");
  rep.work = fmt::format("{}: {} points x {} runs", w->name, r.points.size(), r.repeat);
  rep.items = static_cast<double>(r.runs.size());
  rep.unit = "runs";
  add_fields(rep, r);
  if (compared > 0)
    rep.add("distributed_output_equal_bytes", compared, "the distributed output equals the local one ({} bytes)");
  if (!o.report_dir.empty()) rep.add("report_dir", o.report_dir, "report in {}");
  rep.elapsed = clock::now() - start;
  if (!o.report_dir.empty())
    if (auto st = write_report_files(r, rep, csv_rows(r), o.report_dir, obs); !st.ok()) return st;
  return rep;
}

}  // namespace scalekit::scale
