#include "scalekit/core/stats.h"

#include <bit>
#include <cstdio>

namespace scalekit::core {

int latency_histogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < (1u << sub_bits)) return static_cast<int>(ns);
  const int e = std::bit_width(ns) - 1;  // ns in [2^e, 2^(e+1))
  const auto sub = static_cast<int>((ns >> (e - sub_bits)) & ((1u << sub_bits) - 1));
  return ((e - sub_bits + 1) << sub_bits) + sub;
}

std::uint64_t latency_histogram::upper_bound_of(int bucket) noexcept {
  if (bucket < (1 << sub_bits)) return static_cast<std::uint64_t>(bucket);
  const int e = (bucket >> sub_bits) + sub_bits - 1;
  const std::uint64_t sub = static_cast<std::uint64_t>(bucket & ((1 << sub_bits) - 1));
  const std::uint64_t base = std::uint64_t{1} << e;
  return base + ((sub + 1) << (e - sub_bits)) - 1;
}

void latency_histogram::record(std::chrono::nanoseconds d) noexcept {
  const auto ns = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
  counts_[static_cast<std::size_t>(bucket_of(ns))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(ns, std::memory_order_relaxed);
  std::uint64_t prev = max_.load(std::memory_order_relaxed);
  while (ns > prev && !max_.compare_exchange_weak(prev, ns, std::memory_order_relaxed)) {
  }
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i].fetch_add(other.counts_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  count_.fetch_add(other.count(), std::memory_order_relaxed);
  sum_.fetch_add(other.sum_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  const std::uint64_t m = other.max_.load(std::memory_order_relaxed);
  std::uint64_t prev = max_.load(std::memory_order_relaxed);
  while (m > prev && !max_.compare_exchange_weak(prev, m, std::memory_order_relaxed)) {
  }
}

std::chrono::nanoseconds latency_histogram::percentile(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return std::chrono::nanoseconds(0);
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5);
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (int b = 0; b < buckets; ++b) {
    seen += counts_[static_cast<std::size_t>(b)].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const std::uint64_t ub = upper_bound_of(b);
      const std::uint64_t mx = max_.load(std::memory_order_relaxed);
      return std::chrono::nanoseconds(static_cast<std::int64_t>(ub < mx ? ub : mx));
    }
  }
  return max();
}

std::chrono::nanoseconds latency_histogram::mean() const noexcept {
  const std::uint64_t n = count();
  return std::chrono::nanoseconds(n == 0 ? 0 : static_cast<std::int64_t>(sum_.load(std::memory_order_relaxed) / n));
}

std::string format_duration(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  char buf[32];
  if (ns < 1e3) {
    std::snprintf(buf, sizeof buf, "%.0fns", ns);
  } else if (ns < 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fus", ns / 1e3);
  } else if (ns < 1e9) {
    std::snprintf(buf, sizeof buf, "%.2fms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", ns / 1e9);
  }
  return buf;
}

std::string executor_stats::latency_summary() const {
  if (service_time.count() == 0) return {};
  return "task p50 " + format_duration(service_time.percentile(0.5)) + " p99 " +
         format_duration(service_time.percentile(0.99)) + " max " + format_duration(service_time.max());
}

}  // namespace scalekit::core
