#include "scalekit/serve/web/fleet.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace scalekit::serve::web {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// Resident size in MiB, from /proc (0 when the process is gone).
double rss_mib(int pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) / (1 << 20);
}

}  // namespace

std::uint64_t fleet_totals::responses() const noexcept {
  std::uint64_t n = 0;
  for (const auto c : latency) n += c;
  return n;
}

fleet_totals read_totals(const scoreboard& board) noexcept {
  fleet_totals t;
  for (std::uint32_t i = 0; i < board.capacity(); ++i) {
    const worker_slot& s = board.slot(i);
    for (int b = 0; b < latency_buckets; ++b) t.latency[b] += s.latency[b].load(std::memory_order_relaxed);
    t.shed += s.shed.load(std::memory_order_relaxed);
    // Both levels: an answer from the shared Redis cache (--cache) was an LRU miss, and is a hit.
    const auto lru_misses = s.cache_misses.load(std::memory_order_relaxed);
    const auto shared_hits = std::min(s.shared_hits.load(std::memory_order_relaxed), lru_misses);
    t.cache_hits += s.cache_hits.load(std::memory_order_relaxed) + shared_hits;
    t.cache_misses += lru_misses - shared_hits;
    t.server_errors += s.status_class[5].load(std::memory_order_relaxed);
  }
  return t;
}

double latency_quantile_ms(const std::uint64_t (&buckets)[latency_buckets], double q) noexcept {
  std::uint64_t total = 0;
  for (const auto c : buckets) total += c;
  if (total == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double below = 0;
  for (int b = 0; b < latency_buckets; ++b) {
    const auto in = static_cast<double>(buckets[b]);
    if (in > 0 && below + in >= rank) {
      const double lo = b == 0 ? 0 : std::ldexp(1.0, b - 1), hi = std::ldexp(1.0, b);
      return (lo + (hi - lo) * (rank - below) / in) / 1000.0;
    }
    below += in;
  }
  return std::ldexp(1.0, latency_buckets - 1) / 1000.0;
}

void fleet_history::add(const fleet_totals& before, const fleet_totals& after, double seconds, std::int64_t unix_ms) {
  // Counters only grow; a smaller one (never expected) counts as no change.
  const auto delta = [](std::uint64_t a, std::uint64_t b) { return b > a ? b - a : 0; };
  fleet_sample s;
  s.unix_ms = unix_ms;
  std::uint64_t interval[latency_buckets];
  for (int b = 0; b < latency_buckets; ++b) interval[b] = delta(before.latency[b], after.latency[b]);
  const double per_s = seconds > 0 ? 1.0 / seconds : 0;
  s.requests_per_s = static_cast<double>(delta(before.responses(), after.responses())) * per_s;
  s.shed_per_s = static_cast<double>(delta(before.shed, after.shed)) * per_s;
  s.errors_per_s = static_cast<double>(delta(before.server_errors, after.server_errors)) * per_s;
  s.p50_ms = latency_quantile_ms(interval, 0.5);
  s.p99_ms = latency_quantile_ms(interval, 0.99);
  s.cache_hits = delta(before.cache_hits, after.cache_hits);
  s.cache_misses = delta(before.cache_misses, after.cache_misses);
  samples_.push_back(s);
  while (samples_.size() > keep_) samples_.pop_front();
}

void fleet_history::sample(const scoreboard& board, std::int64_t now_ns, std::int64_t unix_ms) {
  const fleet_totals now = read_totals(board);
  if (last_ns_ != 0) add(last_, now, static_cast<double>(now_ns - last_ns_) / 1e9, unix_ms);
  last_ = now;
  last_ns_ = now_ns;
}

std::string sample_json(const fleet_sample& s) {
  return "{\"t\": " + std::to_string(s.unix_ms) + ", \"rps\": " + number(s.requests_per_s) +
         ", \"p50_ms\": " + number(s.p50_ms) + ", \"p99_ms\": " + number(s.p99_ms) +
         ", \"shed_per_s\": " + number(s.shed_per_s) + ", \"errors_per_s\": " + number(s.errors_per_s) +
         ", \"cache_hits\": " + std::to_string(s.cache_hits) + ", \"cache_misses\": " + std::to_string(s.cache_misses) +
         "}";
}

std::string fleet_json(const scoreboard& board, std::int64_t now_ns, int served_by) {
  const auto& h = board.header();
  const fleet_totals t = read_totals(board);
  std::string out = "{\"served_by\": " + std::to_string(served_by) +
                    ", \"master_pid\": " + std::to_string(h.master_pid.load()) +
                    ", \"uptime_s\": " + number(static_cast<double>(now_ns - h.started_ns.load()) / 1e9) +
                    ", \"workers_wanted\": " + std::to_string(h.workers_wanted.load()) +
                    ", \"accept_queue\": " + std::to_string(h.accept_queue.load()) +
                    ", \"requests\": " + std::to_string(t.responses()) + ", \"shed\": " + std::to_string(t.shed) +
                    ", \"cache_hits\": " + std::to_string(t.cache_hits) +
                    ", \"cache_misses\": " + std::to_string(t.cache_misses) + ", \"restarts\": ";
  out += restarts_json(h) + ", \"workers\": [";
  bool first = true;
  for (std::uint32_t i = 0; i < board.capacity(); ++i) {
    const worker_slot& s = board.slot(i);
    const auto state = static_cast<worker_state>(s.state.load());
    const int pid = s.pid.load();
    if (state == worker_state::empty || pid == 0) continue;
    const std::uint32_t in_flight = s.in_flight.load();
    out += std::string(first ? "" : ", ") + "{\"slot\": " + std::to_string(i) + ", \"pid\": " + std::to_string(pid) +
           ", \"state\": \"" + std::string(to_string(state)) + "\", \"activity\": \"" +
           (state == worker_state::ready ? (in_flight > 0 ? "busy" : "idle") : std::string(to_string(state))) +
           "\", \"generation\": " + std::to_string(s.generation.load()) +
           ", \"requests\": " + std::to_string(s.requests.load()) + ", \"in_flight\": " + std::to_string(in_flight) +
           ", \"queued\": " + std::to_string(s.queued.load()) + ", \"rss_mib\": " + number(rss_mib(pid)) +
           ", \"age_s\": " + number(static_cast<double>(now_ns - s.started_ns.load()) / 1e9) + "}";
    first = false;
  }
  out += "]}";
  return out;
}

}  // namespace scalekit::serve::web
