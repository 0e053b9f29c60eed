#pragma once
// Throughput and latency statistics that executors collect as they run tasks.
//
// latency_histogram records durations into log-linear buckets (16 per power of
// two, about 6% resolution) with relaxed atomics, so recording costs a few ns and
// never takes a lock. Percentiles are read from a snapshot.
// Thread safety: record() and every getter may be called concurrently.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace scalekit::core {

class latency_histogram {
 public:
  void record(std::chrono::nanoseconds d) noexcept;
  /// Merge another histogram's counts into this one.
  void merge(const latency_histogram& other) noexcept;
  [[nodiscard]] std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  /// The q-quantile (0 <= q <= 1), as the upper bound of its bucket; 0 when empty.
  [[nodiscard]] std::chrono::nanoseconds percentile(double q) const noexcept;
  [[nodiscard]] std::chrono::nanoseconds max() const noexcept {
    return std::chrono::nanoseconds(max_.load(std::memory_order_relaxed));
  }
  [[nodiscard]] std::chrono::nanoseconds mean() const noexcept;

 private:
  static constexpr int sub_bits = 4;
  static constexpr int buckets = 64 << sub_bits;
  static int bucket_of(std::uint64_t ns) noexcept;
  static std::uint64_t upper_bound_of(int bucket) noexcept;
  std::array<std::atomic<std::uint64_t>, buckets> counts_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

/// What an executor did: tasks completed and failed, and the time each task ran.
struct executor_stats {
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> retried{0};  ///< re-run after their worker died
  std::atomic<std::uint64_t> workers_replaced{0};
  latency_histogram service_time;  ///< time inside the task body

  /// "p50 12.3µs p99 45.6µs max 80.1µs" (empty when nothing ran).
  [[nodiscard]] std::string latency_summary() const;
};

/// Human-readable duration: "850ns", "12.3µs", "4.56ms", "1.23s".
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace scalekit::core
