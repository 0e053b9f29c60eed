#pragma once
// The process's one CPython interpreter, and who holds its GIL.
//
// GIL policy: the thread that starts the interpreter releases the GIL before
// start() returns; an application thread takes it for a call (gil_scope) and
// gives it up around every sink call (without_gil) and at the end. Each thread
// keeps its Python thread state from its first call until it exits, so a call
// costs two GIL hand-overs, not a thread state's creation and destruction.
// Every wait to take the GIL is timed into the app's gil_clock.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "py.h"
#include "scalekit/core/status.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi::interpreter {

/// Starts the interpreter if this process has not yet (see host::start for the
/// configuration) and creates the host's Python types. Returns with the GIL
/// released. Thread-safe. Errors: internal, with CPython's reason.
/// REQUIRES: the calling thread does not hold the GIL.
status ensure_started(const host_options& options);

/// The interpreter, or nullptr before ensure_started(). Any thread, no GIL.
PyInterpreterState* get() noexcept;

/// Where the GIL waits of one app add up (both pointers may be null).
struct gil_clock {
  std::atomic<std::uint64_t>* total_ns = nullptr;
  std::atomic<std::uint64_t>* max_ns = nullptr;
  std::atomic<std::uint64_t>* call_ns = nullptr;  ///< one call's waits (host::call)
  void record(std::chrono::nanoseconds waited) const noexcept;
};

/// Holds the GIL on the calling thread for its lifetime; the wait to take it is
/// recorded. REQUIRES: the thread does not hold the GIL already; ensure_started().
class gil_scope {
 public:
  explicit gil_scope(const gil_clock& clock);
  ~gil_scope();
  gil_scope(const gil_scope&) = delete;
  gil_scope& operator=(const gil_scope&) = delete;
};

/// Runs fn() with the GIL released and takes it back afterwards (also when fn
/// throws), recording the wait. REQUIRES the GIL.
template <typename F>
decltype(auto) without_gil(const gil_clock& clock, F&& fn) {
  struct retake {
    const gil_clock& clock;
    PyThreadState* state;
    ~retake() {
      const auto t0 = std::chrono::steady_clock::now();
      PyEval_RestoreThread(state);
      clock.record(std::chrono::steady_clock::now() - t0);
    }
  } guard{clock, PyEval_SaveThread()};
  return std::forward<F>(fn)();
}

/// Puts `dirs` (made absolute) and then the current directory first on
/// sys.path, in that order, moving them if already there. REQUIRES the GIL.
/// nullptr-style failure: false with a Python exception set.
bool put_first_on_path(const std::vector<std::string>& dirs);

}  // namespace scalekit::serve::wsgi::interpreter
