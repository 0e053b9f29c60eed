#pragma once
// One owner of the stop signals: SIGINT, SIGTERM and SIGHUP become a stop
// request that jobs and services observe through a std::stop_token.
//
//   main() ── stop_signals::install() ── blocks the signals, starts a waiter
//              │                           thread (sigwait)
//              │   1st signal ──> stop_source.request_stop(): jobs wind down,
//              │                  outputs stay whole or absent, status 128+sig
//              │   2nd signal ──> temporary files removed, the process dies of
//              │                  the signal at once (a stuck job cannot trap you)
//              └── ... job ... ── exit_if_signalled(): dies of the first signal
//
// Blocking the signals in main() before any thread starts means every thread
// inherits the block, so no handler ever runs on an arbitrary thread and the
// waiter can do anything a normal thread can (forward_from_any_thread() adds a
// handler that only passes a signal on to the waiter, for serve's workers).
// Worker processes reset the mask when they are spawned (process_pool). A
// signal that was ignored when the program started (nohup's SIGHUP) stays
// ignored, unless the program owns its signals (inherited_ignores::override:
// serve's master, whose signals are its interface, started from a
// non-interactive shell's background job that ignores INT and QUIT).
//
// A program that gives signals other meanings (serve's master: HUP reloads,
// TTIN adds a worker) claims them at install: a claimed signal is blocked and
// waited for like the stop signals, but runs the handler set for it with on()
// (on the waiter thread), or nothing while none is set. Claiming SIGHUP takes
// it out of the stop signals.
//
// Thread safety: every member function is thread-safe.

#include <functional>
#include <initializer_list>
#include <stop_token>

namespace scalekit::core {

/// What install() does with a stop or claimed signal ignored when the program started.
enum class inherited_ignores {
  keep,      ///< it stays ignored (nohup)
  override,  ///< the program owns it: waited for like the others
};

class stop_signals {
 public:
  /// Installs the process's owner of the stop signals on the first call and
  /// returns it; later calls return the same one.
  /// REQUIRES: the first call happens before the program starts any thread.
  /// `claimed` and `ignores` (heeded on the first call only): signals the
  /// program handles itself, with on(), and whether those ignored at start stay so.
  static stop_signals& install(std::initializer_list<int> claimed = {},
                               inherited_ignores ignores = inherited_ignores::keep);

  /// Run `handler` on the waiter thread at each arrival of the claimed signal
  /// `sig` (replacing the previous handler; an empty one ignores it). A
  /// claimed signal that was ignored at start stays ignored (nohup).
  /// Returns once no handler is running: what the previous one refers to may
  /// then be destroyed.
  /// REQUIRES: not called from a handler (it would wait for itself).
  /// @throws std::invalid_argument when `sig` was not claimed at install.
  void on(int sig, std::function<void()> handler);

  /// Stop requests: the first stop signal, or request_stop().
  [[nodiscard]] std::stop_token token() const noexcept { return source_.get_token(); }

  /// The signal that requested the stop; 0 when none did.
  [[nodiscard]] int signal() const noexcept;

  /// Unblock the waited signals on the calling thread, and so on the threads it
  /// starts from now on, with a handler that passes each one to the waiter
  /// thread: the same meanings, taken on any thread. For a process whose
  /// threads start programs it does not control (serve's WSGI apps and their
  /// subprocesses): a blocked mask is inherited across fork and exec, a handler
  /// is not, so those programs start with no signal blocked and TERM stops them.
  void forward_from_any_thread();

  /// Request the stop as if `sig` had arrived (0: a stop with no signal).
  void request_stop(int sig);

  /// When a signal requested the stop, end the process as that signal does:
  /// the shell sees status 128 + signal. Otherwise return.
  void exit_if_signalled();

  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

 private:
  stop_signals() = default;
  void on_stop_signal(int sig);
  std::stop_source source_;
  struct claims;
  claims* claims_ = nullptr;  // made at install, never freed: the waiter uses it until the end
};

/// Die of `sig` now: remove the live temporary output files (atomic_file),
/// restore the default action and raise it. For a second stop signal, and for
/// exit_if_signalled().
[[noreturn]] void die_of_signal(int sig);

}  // namespace scalekit::core
