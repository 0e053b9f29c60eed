// loop_relay: who holds the loop, who runs the work left between its
// handlers, and the watcher that takes a loop left alone too long (see
// loop_relay.h).

#include "loop_relay.h"

#include <utility>

namespace scalekit::serve {

loop_relay::~loop_relay() {
  if (second_.joinable()) second_.join();
}

void loop_relay::run(asio::io_context& loop) {
  {
    std::scoped_lock lock(mutex_);
    loop_ = &loop;
    held_ = true;  // by the caller, first
  }
  second_ = std::thread([this] { relay(false); });
  relay(true);
  second_.join();  // it leaves once the loop has stopped and its work, if any, has ended
  std::scoped_lock lock(mutex_);
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

bool loop_relay::busy() const {
  std::scoped_lock lock(mutex_);
  return next_ != nullptr || working_;
}

void loop_relay::run_next(std::function<void()> work) {
  std::scoped_lock lock(mutex_);
  next_ = std::move(work);
}

void loop_relay::run_safely(std::function<void()>& work) {
  try {
    work();
  } catch (...) {  // offload's work catches its own; anything else has nobody to go to
  }
  work = nullptr;  // what it holds goes before the relay's lock is taken again
}

bool loop_relay::run_one_handler() {
  try {
    loop_->run_one();
  } catch (...) {
    {
      std::scoped_lock lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
    }
    loop_->stop();
    return false;
  }
  return !loop_->stopped();
}

void loop_relay::relay(bool holding) {
  std::unique_lock lock(mutex_);
  std::uint64_t seen = left_;  // the watcher's last look
  for (;;) {
    if (holding) {
      lock.unlock();
      const bool going = run_one_handler();
      lock.lock();
      if (!going) {
        if (next_) {  // left by the last handler: its caller counts on it (the loop's outstanding calls)
          std::function<void()> work = std::exchange(next_, nullptr);
          lock.unlock();
          run_safely(work);
          lock.lock();
        }
        stopped_ = true;
        held_ = false;
        holding = false;
        cv_.notify_all();
      } else if (next_) {
        // The handler left work: this thread runs it, the loop waits (the watcher watches).
        std::function<void()> work = std::exchange(next_, nullptr);
        working_ = true;
        held_ = false;
        ++left_;
        left_at_ = clock::now();
        if (watcher_asleep_) cv_.notify_one();
        lock.unlock();
        run_safely(work);
        lock.lock();
        working_ = false;
        if (held_ || stopped_) {  // taken meanwhile: this thread watches now
          holding = false;
          seen = left_;
        } else {
          held_ = true;  // back to the loop: no thread woken
        }
      }
      if (holding) continue;
    }
    if (stopped_) return;
    if (!held_) {  // work has left the loop alone since left_at_
      if (clock::now() - left_at_ >= period_) {
        held_ = true;
        holding = true;
        if (rescues_ != nullptr) rescues_->fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      seen = left_;
      ++looks_;
      cv_.wait_until(lock, left_at_ + period_);  // woken early by a stop only
      continue;
    }
    if (left_ == seen) {  // no work left the loop since the last look: sleep until some does
      watcher_asleep_ = true;
      cv_.wait(lock, [&] { return stopped_ || left_ != seen; });
      watcher_asleep_ = false;
      continue;
    }
    seen = left_;
    ++looks_;
    cv_.wait_for(lock, period_);
  }
}

std::uint64_t loop_relay::TEST_looks() const {
  std::scoped_lock lock(mutex_);
  return looks_;
}

}  // namespace scalekit::serve
