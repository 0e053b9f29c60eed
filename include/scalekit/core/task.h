#pragma once
// Named tasks: the unit every executor runs.
//
// A task is a registered name plus a payload of bytes, and returns bytes. Naming
// tasks (instead of shipping closures) is what lets the same call run inline, on
// threads, in a re-executed worker process, or on another machine's worker.
//
// Registration happens at program start, before any executor exists, and the
// registry is read-only afterwards, so lookups need no lock.

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scalekit::core {

/// Payloads and results are opaque byte strings (see wire.h for a codec).
using bytes = std::string;

/// A task body. Throwing any std::exception reports the task failed with what().
using task_fn = std::function<bytes(std::string_view payload)>;

/// A task_call::affinity that lets the call run anywhere.
inline constexpr std::size_t no_affinity = static_cast<std::size_t>(-1);

/// A request to stop one call that may be running (Celery's revoke with
/// terminate=True): see task_call::stop. Set `signal` from any thread.
struct call_stop {
  std::atomic<int> signal{0};  ///< 0: let it run; else the signal that ends it
};

/// One invocation of a registered task.
struct task_call {
  std::string name;
  bytes payload;
  /// Calls with the same affinity run in the same worker, in the order they
  /// were dispatched, where the executor has separate workers (the process
  /// pool: worker `affinity % workers`, the same slot after a replacement), so
  /// a worker can keep state between calls, such as a loaded share of a corpus.
  /// A worker that dies takes its state with it: its replacement starts afresh
  /// and runs again the calls whose results were not delivered. Executors whose
  /// workers share memory ignore it.
  std::size_t affinity = no_affinity;
  /// When set, a call that can be stopped is: once `stop->signal` is set, the
  /// process pool sends that signal to the worker running it (SIGKILL a
  /// second later), or drops it if still queued; it then completes as
  /// `cancelled` and is not run again (calls batched with it run again, each
  /// alone). Executors whose calls share the process cannot stop one that
  /// runs: it runs to its end.
  std::shared_ptr<call_stop> stop = nullptr;
};

class task_registry {
 public:
  /// The process-wide registry used by every executor and by worker processes.
  static task_registry& global();

  /// Register `fn` under `name`. REQUIRES: called before executors start.
  /// @throws std::invalid_argument when the name is already taken.
  void add(std::string name, task_fn fn);

  /// The task, or nullptr when the name is unknown. Thread-safe after registration.
  [[nodiscard]] const task_fn* find(std::string_view name) const;

  [[nodiscard]] std::size_t size() const noexcept { return tasks_.size(); }

 private:
  std::map<std::string, task_fn, std::less<>> tasks_;
};

/// Run one call through the global registry, in this thread. Never throws:
/// failures (unknown name, exception in the task) come back as `ok = false` with
/// the reason in `out`.
bool run_task_inline(std::string_view name, std::string_view payload, bytes& out) noexcept;

/// The environment variable in which a process says whose tasks it runs:
/// `scalekit worker` sets it to "NAME (pid N)", the name `worker --status`
/// shows, for itself and the processes of its pool, so that a task can report
/// which distributed worker ran it.
inline constexpr const char* runner_env = "SCALEKIT_RUNNER";

/// Who runs this process's tasks: $SCALEKIT_RUNNER when set, else "pid N"
/// (this process). Thread-safe.
std::string runner_name();

}  // namespace scalekit::core
