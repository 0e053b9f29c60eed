#include "app_threads.h"

#include <algorithm>

#include "scalekit/core/thread_pool.h"  // core::pool_closed

namespace scalekit::serve {

app_threads::app_threads(std::size_t threads, std::chrono::microseconds patience)
    : limit_(threads), patience_(patience) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { worker_loop(); });
  watcher_ = std::thread([this] { watcher_loop(); });
}

app_threads::~app_threads() { close(); }

void app_threads::detach(std::function<void()> task) {
  bool wake = false, watch = false;
  {
    std::scoped_lock lock(mutex_);
    if (closing_) throw core::pool_closed();
    tasks_.push_back({std::move(task), clock::now()});
    if (idle_ > waking_) {
      if (running_ - claimed_ + waking_ == 0) {  // nobody awake to take it
        wake = true;
        ++waking_;
      } else if (!watching_) {  // someone will, unless they are slow: the watcher times it
        watch = true;
        watching_ = true;
      }
    }
  }
  if (wake) work_cv_.notify_one();
  if (watch) watch_cv_.notify_one();
}

void app_threads::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    while ((tasks_.empty() || running_ >= limit_) && !closing_) {
      ++idle_;
      work_cv_.wait(lock);
      --idle_;
      if (waking_ > 0) --waking_;
    }
    if (tasks_.empty()) return;  // closing and drained
    std::function<void()> task = std::move(tasks_.front().task);
    tasks_.pop_front();
    ++running_;
    lock.unlock();
    try {
      task();
    } catch (...) {
    }
    task = nullptr;  // its captures are destroyed outside the lock
    lock.lock();
    --running_;
  }
}

void app_threads::watcher_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    watch_cv_.wait(lock, [&] { return watching_ || closing_; });
    while (!closing_) {
      if (tasks_.empty() || idle_ == 0) {  // nothing waits, or no thread to wake: detach() calls again
        watching_ = false;
        break;
      }
      const auto now = clock::now();
      const auto due = now - patience_;
      if (tasks_.front().at > due) {
        watch_cv_.wait_until(lock, tasks_.front().at + patience_);
        continue;
      }
      // A thread for each task that has waited its patience, less those already being woken.
      std::size_t overdue = 0;
      for (const auto& t : tasks_) {
        if (t.at > due) break;
        ++overdue;
      }
      const std::size_t wanted = overdue > waking_ ? overdue - waking_ : 0;
      const std::size_t wake = std::min(wanted, idle_ - std::min(idle_, waking_));
      waking_ += wake;
      for (std::size_t i = 0; i < wake; ++i) work_cv_.notify_one();
      watch_cv_.wait_for(lock, patience_);
    }
    if (closing_) return;
  }
}

bool app_threads::try_claim() {
  std::scoped_lock lock(mutex_);
  if (closing_ || !tasks_.empty() || running_ >= limit_) return false;
  ++running_;
  ++claimed_;
  return true;
}

void app_threads::release() {
  bool wake = false;
  {
    std::scoped_lock lock(mutex_);
    --running_;
    --claimed_;
    // A task that waited for the place, and no thread awake to take it.
    if (!tasks_.empty() && idle_ > waking_ && running_ - claimed_ + waking_ == 0) {
      wake = true;
      ++waking_;
    }
  }
  if (wake) work_cv_.notify_one();
}

void app_threads::close() {
  {
    std::scoped_lock lock(mutex_);
    if (closing_ && threads_.empty()) return;
    closing_ = true;
  }
  work_cv_.notify_all();
  watch_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace scalekit::serve
