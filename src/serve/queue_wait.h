#pragma once
// How long a request may wait for an application thread (--queue-wait):
// CoDel's idea as "Fail at Scale" (Facebook, ACM Queue 2015) applies it to a
// server's queue of requests.
//
//   queue empty within the last `bound`  → a burst: a request may wait `bound`
//   queue not empty for `bound` or more  → a standing queue (overload): waiting
//                                          only adds latency; `bound` / 10
//
// Past its limit a request still waiting is shed (the loop answers 503, or
// --degrade's cheaper answer) instead of being run late: the --queue count
// alone let a request wait behind a full queue of slow tiles (64 x 130 ms / 4
// threads: the 2.2 s p99 of an overloaded --degrade worker).
//
// Thread-safe: the loop enters and looks, application threads start.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace scalekit::serve {

class queue_wait {
 public:
  using clock = std::chrono::steady_clock;
  enum class outcome : std::uint8_t { waiting, started, shed };

  /// A request's place in the queue: taken once, by the thread that runs it
  /// (start) or by the shedding (look).
  struct ticket {
    explicit ticket(clock::time_point now) : at(now) {}
    const clock::time_point at;  ///< when it began to wait
    std::atomic<outcome> state{outcome::waiting};
  };
  /// What look() found: `next`, when to look again at a request still waiting.
  struct verdict {
    outcome what;
    clock::time_point next{};
  };

  /// REQUIRES: bound > 0.
  explicit queue_wait(clock::duration bound) noexcept : bound_(bound), target_(bound / 10) {}

  /// A request begins to wait (the loop).
  std::shared_ptr<ticket> enter(clock::time_point now);
  /// A thread takes the request: true, run it; false, it was shed meanwhile.
  bool start(ticket& t, clock::time_point now) noexcept;
  /// The request's fate at `now`: started already; shed (by this call, now
  /// that it waited past its limit, or before); or still waiting, to be
  /// looked at again at `next` (the standing queue's limit, then `bound`).
  verdict look(ticket& t, clock::time_point now) noexcept;
  /// The first time to look at a request (its limit in a standing queue).
  [[nodiscard]] clock::time_point first_look(const ticket& t) const noexcept { return t.at + target_; }
  /// Whether the queue has not been empty for `bound` or more.
  [[nodiscard]] bool standing(clock::time_point now) const noexcept;

 private:
  void leave(clock::time_point now) noexcept;

  const clock::duration bound_, target_;
  std::atomic<std::uint32_t> waiting_{0};  // requests entered and neither started nor shed
  std::atomic<clock::rep> last_empty_{0};  // when waiting_ last was 0 (clock's ticks)
};

}  // namespace scalekit::serve
