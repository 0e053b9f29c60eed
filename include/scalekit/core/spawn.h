#pragma once
// The posix_spawn attributes every program scalekit starts gets: no signal
// blocked, and every signal's action the default. The parent blocks the stop
// signals in all its threads (core::stop_signals waits for them on one), and
// serve's master gives HUP, TTIN and others meanings of its own; a program
// started fresh must inherit neither (an exec keeps the mask and ignored
// signals).
//
//   core::spawn_attributes attr;
//   posix_spawn(&pid, path, &actions, attr.get(), argv, envp);

#include <spawn.h>

namespace scalekit::core {

class spawn_attributes {
 public:
  spawn_attributes();
  ~spawn_attributes() { posix_spawnattr_destroy(&attr_); }
  spawn_attributes(const spawn_attributes&) = delete;
  spawn_attributes& operator=(const spawn_attributes&) = delete;

  [[nodiscard]] const posix_spawnattr_t* get() const noexcept { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace scalekit::core
