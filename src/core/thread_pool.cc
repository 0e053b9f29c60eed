#include "scalekit/core/thread_pool.h"

#include <algorithm>
#include <atomic>

namespace scalekit::core {

namespace {
thread_local const thread_pool* current_pool = nullptr;
}

thread_pool::thread_pool(std::size_t threads)
    : thread_count_(threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads) {
  threads = thread_count_;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { worker_loop(); });
}

thread_pool::~thread_pool() { close(); }

void thread_pool::enqueue(std::function<void()> task) {
  bool wake;
  {
    std::scoped_lock lock(mutex_);
    if (closing_) throw pool_closed();
    tasks_.push_back(std::move(task));
    wake = sleeping_ > 0;
  }
  if (wake) work_cv_.notify_one();
}

void thread_pool::worker_loop() {
  current_pool = this;
  // One task per lock acquisition. Taking several at once measured no faster
  // here, and a task parked in one worker's private batch could not be run by
  // an idle worker while its neighbour waits for it.
  std::unique_lock lock(mutex_);
  for (;;) {
    while (tasks_.empty() && !closing_) {
      ++sleeping_;
      work_cv_.wait(lock);
      --sleeping_;
    }
    if (tasks_.empty()) return;  // closing and drained
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    lock.unlock();
    try {
      task();
    } catch (...) {
      // Only detached tasks get here: submit() stores exceptions in the future.
      std::scoped_lock err_lock(mutex_);
      if (detached_failures_++ == 0) detached_error_ = std::current_exception();
    }
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
    --running_;
    if (running_ == 0 && tasks_.empty() && waiters_ > 0) idle_cv_.notify_all();
  }
}

void thread_pool::parallel_for(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& f) {
  if (begin >= end) return;
  const std::size_t n = end - begin;
  const std::size_t chunks = std::min(n, thread_count_ * 4);
  std::vector<std::future<void>> futures;
  futures.reserve(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t lo = begin + n * c / chunks, hi = begin + n * (c + 1) / chunks;
    futures.push_back(submit([lo, hi, &f] {
      for (std::size_t i = lo; i < hi; ++i) f(i);
    }));
  }
  std::exception_ptr first;
  for (auto& fut : futures) {
    try {
      fut.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void thread_pool::wait() {
  if (current_pool == this) throw wait_deadlock();
  std::unique_lock lock(mutex_);
  ++waiters_;
  idle_cv_.wait(lock, [&] { return tasks_.empty() && running_ == 0; });
  --waiters_;
}

void thread_pool::join_all() {
  for (auto& t : threads_) {
    if (t.joinable()) {
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();  // closing from inside a task: the thread ends by itself
      } else {
        t.join();
      }
    }
  }
}

void thread_pool::close() {
  {
    std::scoped_lock lock(mutex_);
    closing_ = true;
  }
  work_cv_.notify_all();
  join_all();
}

std::size_t thread_pool::terminate() {
  std::deque<std::function<void()>> dropped;
  {
    std::scoped_lock lock(mutex_);
    closing_ = true;
    dropped.swap(tasks_);
  }
  work_cv_.notify_all();
  const std::size_t n = dropped.size();
  dropped.clear();  // destroying a packaged_task breaks its promise: futures see broken_promise
  join_all();
  return n;
}

std::size_t thread_pool::get_tasks_queued() const {
  std::scoped_lock lock(mutex_);
  return tasks_.size();
}

std::uint64_t thread_pool::get_detached_failures() const {
  std::scoped_lock lock(mutex_);
  return detached_failures_;
}

std::exception_ptr thread_pool::get_detached_error() const {
  std::scoped_lock lock(mutex_);
  return detached_error_;
}

bool thread_pool::in_pool_thread() noexcept { return current_pool != nullptr; }

}  // namespace scalekit::core
