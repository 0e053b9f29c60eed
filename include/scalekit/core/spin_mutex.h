#pragma once
// spin_mutex: a test-and-test-and-set lock for critical sections of a few
// dozen instructions (a queue push or pop). Under contention a pthread mutex
// parks the loser in the kernel (futex wait + wake, microseconds); this one
// spins with `pause` and, when the holder seems descheduled, yields the CPU.
// Meets the Lockable requirements (use with std::scoped_lock and
// std::condition_variable_any). Not for long critical sections.

#include <atomic>
#include <thread>

namespace scalekit::core {

class spin_mutex {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();  // the holder is probably not running: let it
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace scalekit::core
