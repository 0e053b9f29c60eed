#pragma once
// rate_limiter: lets callers through at most `rate` times per period, evenly
// spaced (the seed's ThumbnailURLController, built on a condition variable).
//
//   rate_limiter r(rate_limiter::parse("120/min").value());
//   while (r.acquire()) produce_one();   // ~2 per second, whatever the number of producers
//
// Each acquire() reserves the next free time slot (slots are 1/rate apart;
// `burst` slots may be taken back to back after an idle spell) and sleeps until
// it. Over any window of T seconds at most burst + rate*T callers pass, so the
// long-run rate is exact. close() wakes every sleeper: acquire() returns false.
// Thread safety: all member functions are thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::core {

struct rate {
  double per_second = 0;  ///< > 0
};

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  /// @param burst how many calls may pass back to back after an idle spell (>= 1).
  explicit rate_limiter(rate r, std::uint32_t burst = 1);

  /// "N/s", "N/sec", "N/min", "N/h" or a bare N (per second). N may be fractional.
  static result<rate> parse(std::string_view text);

  /// Blocks until the caller's slot; false once closed.
  bool acquire();
  /// Take a slot only if it is due now.
  bool try_acquire();
  void close();
  [[nodiscard]] std::uint64_t get_passed() const;

 private:
  /// The earliest slot from `now`, honouring the burst. REQUIRES mutex_ held.
  clock::time_point next_slot(clock::time_point now);

  const clock::duration interval_;
  const std::uint32_t burst_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  // State below is protected by mutex_.
  clock::time_point next_;  // earliest time the next slot may start
  std::uint64_t passed_ = 0;
  bool closed_ = false;
};

}  // namespace scalekit::core
