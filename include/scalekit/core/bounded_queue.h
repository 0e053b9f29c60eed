#pragma once
// bounded_queue<T>: a multi-producer, multi-consumer FIFO with a fixed capacity
// and a close() that ends the stream cleanly.
//
//   producers --push--> [ capacity slots ] --pop--> consumers
//                 close(): pushes fail, pops drain what is left, then report the end
//
// This is the program-end condition the seed's producer/consumer thumbnailer
// lacks: consumers never need a sentinel per consumer and never block forever.
//
// Thread safety: every member function is safe to call concurrently.
// Caveat: size() is a snapshot; it may be stale by the time the caller reads it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

namespace scalekit::core {

/// Outcome of a push or pop that may not complete.
enum class queue_op { ok, full, empty, timeout, closed };

template <typename T>
class bounded_queue {
 public:
  /// @param capacity maximum items held at once; REQUIRES capacity >= 1.
  /// @throws std::invalid_argument when capacity is 0.
  explicit bounded_queue(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("bounded_queue capacity must be at least 1");
  }
  bounded_queue(const bounded_queue&) = delete;
  bounded_queue& operator=(const bounded_queue&) = delete;

  /// Blocks while full. Returns false (and leaves `item` untouched) once closed.
  bool push(T item) {
    return push_until(std::move(item), std::chrono::steady_clock::time_point::max()) == queue_op::ok;
  }

  /// Never blocks: ok, full or closed.
  queue_op try_push(T item) {
    {
      std::scoped_lock lock(mutex_);
      if (closed_) return queue_op::closed;
      if (items_.size() >= capacity_) return queue_op::full;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return queue_op::ok;
  }

  /// Blocks up to `timeout` while full: ok, timeout or closed.
  template <typename Rep, typename Period>
  queue_op push_for(T item, std::chrono::duration<Rep, Period> timeout) {
    return push_until(std::move(item), std::chrono::steady_clock::now() + timeout);
  }

  queue_op push_until(T item, std::chrono::steady_clock::time_point deadline) {
    {
      std::unique_lock lock(mutex_);
      auto can_push = [&] { return closed_ || items_.size() < capacity_; };
      if (deadline == std::chrono::steady_clock::time_point::max()) {
        not_full_.wait(lock, can_push);
      } else if (!not_full_.wait_until(lock, deadline, can_push)) {
        return queue_op::timeout;
      }
      if (closed_) return queue_op::closed;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return queue_op::ok;
  }

  /// Blocks while empty and open. Returns nullopt only when closed and drained.
  std::optional<T> pop() {
    std::optional<T> out;
    pop_until(out, std::chrono::steady_clock::time_point::max());
    return out;
  }

  /// Never blocks: ok (item in `out`), empty, or closed (closed and drained).
  queue_op try_pop(std::optional<T>& out) {
    {
      std::scoped_lock lock(mutex_);
      if (items_.empty()) return closed_ ? queue_op::closed : queue_op::empty;
      out.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_one();
    return queue_op::ok;
  }

  /// Blocks up to `timeout`: ok (item in `out`), timeout, or closed (closed and drained).
  template <typename Rep, typename Period>
  queue_op pop_for(std::optional<T>& out, std::chrono::duration<Rep, Period> timeout) {
    return pop_until(out, std::chrono::steady_clock::now() + timeout);
  }

  queue_op pop_until(std::optional<T>& out, std::chrono::steady_clock::time_point deadline) {
    {
      std::unique_lock lock(mutex_);
      auto can_pop = [&] { return closed_ || !items_.empty(); };
      if (deadline == std::chrono::steady_clock::time_point::max()) {
        not_empty_.wait(lock, can_pop);
      } else if (!not_empty_.wait_until(lock, deadline, can_pop)) {
        return queue_op::timeout;
      }
      if (items_.empty()) return queue_op::closed;
      out.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_one();
    return queue_op::ok;
  }

  /// Ends the stream: wakes every waiter; later pushes fail; pops drain, then end.
  /// Idempotent.
  void close() {
    {
      std::scoped_lock lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  [[nodiscard]] bool is_closed() const {
    std::scoped_lock lock(mutex_);
    return closed_;
  }
  [[nodiscard]] std::size_t size() const {
    std::scoped_lock lock(mutex_);
    return items_.size();
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  // State below is protected by mutex_.
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace scalekit::core
