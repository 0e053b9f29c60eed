// show_status(): `scalekit worker --status`, query_status() as lines and a report.

#include <chrono>
#include <cstdio>
#include <string>

#include "scalekit/taskqueue/worker.h"

namespace scalekit::taskqueue {

namespace {

// printf into a std::string.
template <typename... Args>
std::string format(const char* fmt, Args... args) {
  const int n = std::snprintf(nullptr, 0, fmt, args...);
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), fmt, args...);
  out.pop_back();
  return out;
}

std::string lines_of(const status_report& s) {
  std::string out = format("%zu live workers\n", s.workers.size());
  for (const auto& w : s.workers) {
    const std::string last = w.last_fetch_age_s < 0 ? "never" : format("%.1f s ago", w.last_fetch_age_s);
    out +=
        format("  %s: %s x%zu, %llu active, %llu done, %llu failed, last fetch %s\n", w.name.c_str(), w.pool.c_str(),
               w.concurrency, static_cast<unsigned long long>(w.active), static_cast<unsigned long long>(w.processed),
               static_cast<unsigned long long>(w.failed), last.c_str());
  }
  const std::string oldest = s.oldest_waiting_age_s < 0 ? "-" : format("%.1f s", s.oldest_waiting_age_s);
  out += format("queue depth %llu, reserved (unacked) %llu, dead letters %llu, oldest waiting task %s\n",
                static_cast<unsigned long long>(s.waiting), static_cast<unsigned long long>(s.unacked),
                static_cast<unsigned long long>(s.dead_letters), oldest.c_str());
  out += "health: " + s.verdict + "\n";
  return out;
}

}  // namespace

result<core::report> show_status(const status_options& o, core::observer& obs) {
  if (o.queues.empty()) return status::invalid_argument("no queue to look at");
  const auto t0 = std::chrono::steady_clock::now();
  auto queried = query_status(o.broker, o.queues, o.stall_after);
  if (!queried.ok()) return queried.error();
  const status_report& s = queried.value();
  obs.output(lines_of(s));

  core::report r("worker --status");
  r.work = std::to_string(s.workers.size()) + " live workers, queue depth " + std::to_string(s.waiting);
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.failures = s.consuming ? 0 : 1;
  std::vector<core::report_record> workers;
  for (const auto& w : s.workers) {
    workers.push_back({{"name", w.name, ""},
                       {"active", w.active, ""},
                       {"processed", w.processed, ""},
                       {"failed", w.failed, ""},
                       {"concurrency", static_cast<std::uint64_t>(w.concurrency), ""},
                       {"pool", w.pool, ""},
                       {"last_fetch_age_s", w.last_fetch_age_s, ""}});
  }
  r.add("workers", std::move(workers), "");  // the head counts them
  r.add("waiting", s.waiting, "");           // the head says it
  r.add("unacked", s.unacked, "{} unacked");
  r.add("dead_letters", s.dead_letters, "{} dead letters");
  r.add("oldest_waiting_age_s", s.oldest_waiting_age_s, "");
  r.add("consuming", s.consuming, "");  // the verdict says it
  r.add("verdict", s.verdict, "health: {}");
  return r;
}

}  // namespace scalekit::taskqueue
