// The fleet of a distributed sweep point (fleet.h).

#include "fleet.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "proc_usage.h"
#include "pss.h"

namespace scalekit::scale {

process_cpu cpu_of(pid_t pid) {
  const auto f = stat_fields_of(pid);
  if (f.size() < 15) return {};
  const auto ticks = [&](std::size_t i) { return std::strtod(f[i].c_str(), nullptr); };
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // utime + cutime, stime + cstime (fields 14-17): the process and its reaped children.
  return {(ticks(11) + ticks(13)) / tick, (ticks(12) + ticks(14)) / tick};
}

std::uint64_t record_task_times(std::string_view log, core::latency_histogram& h) {
  constexpr std::string_view marker = " succeeded in ";
  std::uint64_t n = 0;
  while (!log.empty()) {
    const auto eol = log.find('\n');
    const std::string_view line = log.substr(0, eol);
    log.remove_prefix(eol == std::string_view::npos ? log.size() : eol + 1);
    const auto at = line.find(marker);  // the first: a result's text may say anything after it
    if (at == std::string_view::npos) continue;
    const char* first = line.data() + at + marker.size();
    const char* last = line.data() + line.size();
    double s = 0;
    const auto [end, ec] = std::from_chars(first, last, s);
    if (ec != std::errc() || end == last || *end != 's' || !(s >= 0)) continue;
    h.record(std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9 + 0.5)));
    ++n;
  }
  return n;
}

status fleet::start(const std::string& exe, std::size_t workers, const std::string& dir, const core::observer& obs) {
  const int port = free_loopback_port();
  redis_ = std::make_unique<service_process>();
  if (auto st = redis_->start({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", dir},
                              dir + "/redis.log", "Ready to accept connections");
      !st.ok())
    return st;
  broker_ = fmt::format("redis://127.0.0.1:{}/0", port);
  // Started all at once, then waited for: their start-ups overlap.
  for (std::size_t i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<service_process>());
    if (auto st =
            workers_.back()->start({exe, "worker", "--broker", broker_, "--pool", "threads", "-c", "1", "--grace", "1",
                                    "--without-mingle", "--loglevel", "info", "-n", fmt::format("w{}@sweep", i + 1)},
                                   fmt::format("{}/worker-{}.log", dir, i + 1), "");
        !st.ok())
      return st;
  }
  for (auto& w : workers_)
    if (auto st = w->wait_for("consuming", std::chrono::seconds(30), [&] { return obs.stop_requested(); }); !st.ok())
      return st;
  return {};
}

fleet::~fleet() {
  // SIGTERM to every worker first, so that they stop together; each
  // service_process then reaps its own.
  for (const auto& w : workers_)
    if (w->running()) ::kill(w->pid(), SIGTERM);
  workers_.clear();
  redis_.reset();
}

process_cpu fleet::cpu() const {
  process_cpu sum;
  const auto add = [&](const service_process& p) {
    if (!p.running()) return;
    const auto c = cpu_of(p.pid());
    sum.user_s += c.user_s;
    sum.sys_s += c.sys_s;
  };
  if (redis_) add(*redis_);
  for (const auto& w : workers_) add(*w);
  return sum;
}

double fleet::pss_kib() const {
  double sum = 0;
  if (redis_ && redis_->running()) sum += pss_of(std::to_string(redis_->pid()));
  for (const auto& w : workers_)
    if (w->running()) sum += pss_of(std::to_string(w->pid()));
  return sum;
}

task_latency fleet::tasks() const {
  core::latency_histogram h;
  task_latency t;
  for (const auto& w : workers_) t.tasks += record_task_times(w->log(), h);
  if (t.tasks == 0) return t;
  const auto s = [](std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); };
  t.p50 = s(h.percentile(0.5));
  t.p99 = s(h.percentile(0.99));
  t.p999 = s(h.percentile(0.999));
  t.max = s(h.max());
  return t;
}

}  // namespace scalekit::scale
