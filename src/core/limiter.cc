#include "scalekit/core/limiter.h"

#include <limits>
#include <stdexcept>

namespace scalekit::core {

limit_slot::~limit_slot() {
  if (owner_ != nullptr) owner_->do_release();
}

void limit_slot::commit() {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->do_commit();
}

std::optional<limit_slot> count_limiter::acquire() {
  if (!do_acquire(true)) return std::nullopt;
  return limit_slot(this);
}

std::optional<limit_slot> count_limiter::try_acquire() {
  if (!do_acquire(false)) return std::nullopt;
  return limit_slot(this);
}

// ---- lock_limiter ----

bool lock_limiter::do_acquire(bool block) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (closed_ || committed_ >= get_limit()) return false;
    if (committed_ + in_flight_ < get_limit()) {
      ++in_flight_;
      return true;
    }
    if (!block) return false;
    cv_.wait(lock);  // every slot is in flight: one may fail and come back
  }
}

void lock_limiter::do_release() {
  {
    std::scoped_lock lock(mutex_);
    --in_flight_;
  }
  cv_.notify_one();
}

void lock_limiter::do_commit() {
  bool done;
  {
    std::scoped_lock lock(mutex_);
    --in_flight_;
    ++committed_;
    done = committed_ >= get_limit();
  }
  if (done) cv_.notify_all();
}

void lock_limiter::close() {
  {
    std::scoped_lock lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::uint64_t lock_limiter::get_committed() const noexcept {
  std::scoped_lock lock(mutex_);
  return committed_;
}

// ---- semaphore_limiter ----

semaphore_limiter::semaphore_limiter(std::uint64_t limit)
    : count_limiter(limit), permits_(static_cast<std::ptrdiff_t>(limit)) {
  if (limit > static_cast<std::uint64_t>(std::counting_semaphore<>::max()))
    throw std::invalid_argument("limit too large for a semaphore");
}

bool semaphore_limiter::do_acquire(bool block) {
  if (closed_.load(std::memory_order_acquire) || is_done()) return false;
  if (block) {
    permits_.acquire();
  } else if (!permits_.try_acquire()) {
    return false;
  }
  if (closed_.load(std::memory_order_acquire) || is_done()) {
    permits_.release();  // pass the wake-up on to the next waiter
    return false;
  }
  return true;
}

void semaphore_limiter::do_release() { permits_.release(); }

void semaphore_limiter::do_commit() {
  // The permit stays taken: a committed item holds its place forever. The last
  // commit frees one permit so blocked acquirers wake, see is_done(), and chain.
  if (committed_.fetch_add(1, std::memory_order_acq_rel) + 1 == get_limit()) permits_.release();
}

void semaphore_limiter::close() {
  closed_.store(true, std::memory_order_release);
  permits_.release();  // starts the wake-up chain
}

std::optional<limiter_kind> parse_limiter_kind(std::string_view name) {
  if (name == "lock") return limiter_kind::lock;
  if (name == "semaphore") return limiter_kind::semaphore;
  return std::nullopt;
}

std::unique_ptr<count_limiter> make_limiter(limiter_kind kind, std::uint64_t limit) {
  if (kind == limiter_kind::lock) return std::make_unique<lock_limiter>(limit);
  return std::make_unique<semaphore_limiter>(limit);
}

}  // namespace scalekit::core
