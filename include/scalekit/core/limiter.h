#pragma once
// Exact-count limiters: at most N items ever *succeed*, and exactly N when
// enough items are offered, never N-1 or N+1 -- the seed's thumbnail savers
// (ThumbnailImageSaver: a lock and a counter; ThumbnailImageSemaSaver: a
// semaphore), fixed so that a failed item gives its slot back.
//
//   auto slot = limiter.acquire();   // blocks while N items are in flight
//   if (!slot) return;               // N items have succeeded: stop producing
//   if (save(item)) slot->commit();  // counts toward N
//   // slot destroyed without commit(): released, another item may take it
//
// acquire() blocks only while in-flight items could still fail and free a slot;
// once N are committed every waiter returns nullopt at once.
// Thread safety: all member functions are thread-safe; a slot belongs to one thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string_view>
#include <utility>

namespace scalekit::core {

class count_limiter;

/// A reserved place among the N. Move-only; releases itself unless committed.
class limit_slot {
 public:
  limit_slot(limit_slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
  limit_slot& operator=(limit_slot&&) = delete;
  limit_slot(const limit_slot&) = delete;
  ~limit_slot();
  /// The item succeeded: it counts toward the limit. Idempotent.
  void commit();

 private:
  friend class count_limiter;
  explicit limit_slot(count_limiter* owner) noexcept : owner_(owner) {}
  count_limiter* owner_;
};

class count_limiter {
 public:
  virtual ~count_limiter() = default;
  /// A slot, or nullopt when the limit has been reached (or close() was called).
  std::optional<limit_slot> acquire();
  /// Non-blocking acquire: nullopt also when all remaining slots are in flight.
  std::optional<limit_slot> try_acquire();
  /// Wake every waiter and refuse further slots.
  virtual void close() = 0;
  [[nodiscard]] std::uint64_t get_limit() const noexcept { return limit_; }
  [[nodiscard]] virtual std::uint64_t get_committed() const noexcept = 0;
  [[nodiscard]] bool is_done() const noexcept { return get_committed() >= limit_; }

 protected:
  explicit count_limiter(std::uint64_t limit) noexcept : limit_(limit) {}
  virtual bool do_acquire(bool block) = 0;  // true: slot reserved
  virtual void do_release() = 0;
  virtual void do_commit() = 0;

 private:
  friend class limit_slot;
  std::uint64_t limit_;
};

/// Mutex + counters + condition variable (the seed's lock flavour).
class lock_limiter final : public count_limiter {
 public:
  explicit lock_limiter(std::uint64_t limit) noexcept : count_limiter(limit) {}
  void close() override;
  [[nodiscard]] std::uint64_t get_committed() const noexcept override;

 private:
  bool do_acquire(bool block) override;
  void do_release() override;
  void do_commit() override;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  // State below is protected by mutex_.
  std::uint64_t committed_ = 0;
  std::uint64_t in_flight_ = 0;
  bool closed_ = false;
};

/// A counting semaphore of N permits (the seed's semaphore flavour). A permit is
/// held while an item is in flight and kept forever when it commits; when the
/// last one commits, one permit is released to start a wake-up chain.
class semaphore_limiter final : public count_limiter {
 public:
  explicit semaphore_limiter(std::uint64_t limit);
  void close() override;
  [[nodiscard]] std::uint64_t get_committed() const noexcept override {
    return committed_.load(std::memory_order_acquire);
  }

 private:
  bool do_acquire(bool block) override;
  void do_release() override;
  void do_commit() override;
  std::counting_semaphore<> permits_;
  std::atomic<std::uint64_t> committed_{0};
  std::atomic<bool> closed_{false};
};

enum class limiter_kind { lock, semaphore };
/// "lock" or "semaphore"; nullopt otherwise.
std::optional<limiter_kind> parse_limiter_kind(std::string_view name);
std::unique_ptr<count_limiter> make_limiter(limiter_kind kind, std::uint64_t limit);

}  // namespace scalekit::core
