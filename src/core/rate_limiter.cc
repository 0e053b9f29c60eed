#include "scalekit/core/rate_limiter.h"

#include <charconv>
#include <cmath>
#include <string>

namespace scalekit::core {

rate_limiter::rate_limiter(rate r, std::uint32_t burst)
    : interval_(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / r.per_second))),
      burst_(burst == 0 ? 1 : burst),
      next_(clock::now()) {}

result<rate> rate_limiter::parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view num = text.substr(0, slash);
  double n = 0;
  const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
  if (ec != std::errc() || ptr != num.data() + num.size() || !(n > 0) || !std::isfinite(n))
    return status::invalid_argument("rate '" + std::string(text) + "': expected a positive number, like 60/min");
  double seconds = 1;
  if (slash != std::string_view::npos) {
    const std::string_view unit = text.substr(slash + 1);
    if (unit == "s" || unit == "sec" || unit == "second") {
      seconds = 1;
    } else if (unit == "m" || unit == "min" || unit == "minute") {
      seconds = 60;
    } else if (unit == "h" || unit == "hour") {
      seconds = 3600;
    } else {
      return status::invalid_argument("rate '" + std::string(text) + "': unit must be s, min or h");
    }
  }
  return rate{n / seconds};
}

rate_limiter::clock::time_point rate_limiter::next_slot(clock::time_point now) {
  // After an idle spell, allow up to burst_ slots back to back, never more.
  const auto earliest = now - interval_ * (burst_ - 1);
  if (next_ < earliest) next_ = earliest;
  return next_;
}

bool rate_limiter::acquire() {
  std::unique_lock lock(mutex_);
  if (closed_) return false;
  const auto slot = next_slot(clock::now());
  next_ += interval_;
  if (cv_.wait_until(lock, slot, [&] { return closed_; })) return false;
  ++passed_;
  return true;
}

bool rate_limiter::try_acquire() {
  std::scoped_lock lock(mutex_);
  if (closed_) return false;
  const auto now = clock::now();
  if (next_slot(now) > now) return false;
  next_ += interval_;
  ++passed_;
  return true;
}

void rate_limiter::close() {
  {
    std::scoped_lock lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::uint64_t rate_limiter::get_passed() const {
  std::scoped_lock lock(mutex_);
  return passed_;
}

}  // namespace scalekit::core
