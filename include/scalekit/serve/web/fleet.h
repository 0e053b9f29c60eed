#pragma once
// The fleet dashboard's data (serve's page at /fleet): the scoreboard read as
// one JSON snapshot, and a short history of the whole server's rates.
//
//   worker loop ── every second ──> fleet_history::sample(board)   (rates over the last interval)
//   /fleet/events ── every 500 ms ──> fleet_json(board) + the newest samples, as Server-Sent Events
//
// The history is built from counters that a slot keeps for the master's whole
// life (latency buckets, shed, cache hits and misses, status classes), summed
// over every slot, so a worker that restarts does not make a rate go negative.
//
// Thread safety: none; a worker uses these on its loop's thread.

#include <cstdint>
#include <deque>
#include <string>

#include "scalekit/serve/scoreboard.h"

namespace scalekit::serve::web {

/// Counters summed over every slot of the board.
struct fleet_totals {
  std::uint64_t latency[latency_buckets]{};  ///< responses by latency bucket (scoreboard.h)
  std::uint64_t shed = 0, cache_hits = 0, cache_misses = 0, server_errors = 0;
  [[nodiscard]] std::uint64_t responses() const noexcept;
};
fleet_totals read_totals(const scoreboard& board) noexcept;

/// The q-quantile (0 < q ≤ 1) of the latencies counted in `buckets` (a
/// latency histogram, scoreboard.h), in milliseconds: linear within the
/// bucket it falls in (bucket b spans [2^(b−1), 2^b) µs; bucket 0 [0, 1) µs).
/// 0 when the histogram is empty.
double latency_quantile_ms(const std::uint64_t (&buckets)[latency_buckets], double q) noexcept;

/// One interval of the whole server.
struct fleet_sample {
  std::int64_t unix_ms = 0;  ///< when the interval ended (wall clock, for the charts' axis)
  double requests_per_s = 0, shed_per_s = 0, errors_per_s = 0;
  double p50_ms = 0, p99_ms = 0;                   ///< of the responses of the interval (0: none)
  std::uint64_t cache_hits = 0, cache_misses = 0;  ///< in the interval
};

class fleet_history {
 public:
  /// Keeps the newest `keep` samples (default: five minutes at one a second).
  explicit fleet_history(std::size_t keep = 300) : keep_(keep) {}
  /// Read the board and add the interval since the previous call (the first
  /// call only takes the starting point). `now_ns` is CLOCK_MONOTONIC.
  void sample(const scoreboard& board, std::int64_t now_ns, std::int64_t unix_ms);
  /// Add an interval from two readings (what sample() does; for tests).
  void add(const fleet_totals& before, const fleet_totals& after, double seconds, std::int64_t unix_ms);
  [[nodiscard]] const std::deque<fleet_sample>& samples() const noexcept { return samples_; }

 private:
  std::size_t keep_;
  std::deque<fleet_sample> samples_;
  fleet_totals last_;
  std::int64_t last_ns_ = 0;
};

/// A sample as a JSON object.
std::string sample_json(const fleet_sample& s);
/// The board now, as one JSON object: the master (pid, uptime, workers
/// wanted, accept queue, restarts by cause), every worker (slot, pid, state,
/// activity idle/busy, requests, in flight, RSS in MiB from /proc, age,
/// generation), totals, and `served_by`: the pid answering.
std::string fleet_json(const scoreboard& board, std::int64_t now_ns, int served_by);

}  // namespace scalekit::serve::web
