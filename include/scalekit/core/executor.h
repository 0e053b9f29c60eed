#pragma once
// One executor interface for every strategy: serial, threads, processes, OpenMP
// (and, later, distributed workers). A job is written once against `executor`
// and gets the strategy from a command-line flag; every executor produces the
// same results.
//
//   job ──task_call{name, payload}──> executor::dispatch ──> inline | thread_pool
//                                                                   | worker processes
//                                                                   | OpenMP team
//        <──done(index, result<bytes>)── exactly once per call, from any thread
//
// dispatch() is the one primitive; submit(), map() and as_completed() are built
// on it. Failures are values (result<bytes> with a status), never lost: a call is
// always completed, with its result, its task's error, or `cancelled` when the
// executor was closed or terminated first.
//
// Thread safety: every member function is thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/bounded_queue.h"
#include "scalekit/core/stats.h"
#include "scalekit/core/status.h"
#include "scalekit/core/task.h"

namespace scalekit::core {

enum class executor_kind { serial, threads, processes, openmp, distributed };

/// "serial", "threads", ... ; nullopt for an unknown name.
std::optional<executor_kind> parse_executor_kind(std::string_view name);
std::string_view to_string(executor_kind kind);

/// Thrown by submit()'s future when the call failed; what() names the task and the reason.
struct task_error : std::runtime_error {
  task_error(status s) : std::runtime_error(s.message()), st(std::move(s)) {}  // NOLINT
  status st;
};

/// Called once per dispatched call with the call's index in the batch.
using completion_fn = std::function<void(std::size_t index, result<bytes> r)>;

/// One finished call, as delivered by as_completed().
struct completion {
  std::size_t index;
  result<bytes> value;
};

/// The stream returned by as_completed(): next() yields each call once, in
/// completion order, and nullopt after the last.
class completion_stream {
 public:
  explicit completion_stream(std::size_t n);
  std::optional<completion> next();
  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  completion_fn sink();  ///< the callback that feeds this stream
 private:
  std::size_t n_;
  std::shared_ptr<bounded_queue<completion>> queue_;
};

class executor {
 public:
  virtual ~executor() = default;
  executor() = default;
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  /// Run every call; `done(i, r)` is called exactly once for calls[i], from any
  /// thread, possibly before dispatch() returns (the serial and OpenMP executors
  /// run the calls inside dispatch()). After close() or terminate(), calls
  /// complete at once with a `cancelled` status.
  virtual void dispatch(std::vector<task_call> calls, completion_fn done) = 0;

  /// Finish queued work, refuse new work, release workers. Blocks. Idempotent.
  virtual void close() = 0;

  /// Drop queued work (completed as `cancelled`), let running work finish,
  /// release workers. Blocks. Idempotent.
  virtual void terminate() = 0;

  /// Stop as soon as possible, without blocking: queued calls complete at once
  /// as `cancelled`, running calls are stopped where the executor can stop
  /// them (worker processes are ended; a thread runs its call to the end) and
  /// complete as `cancelled` or with their result, and later dispatches are
  /// refused. Safe from any thread, including a stop callback. Final: the
  /// executor takes no more work; close() or the destructor still waits for
  /// the calls that run.
  virtual void cancel() noexcept = 0;

  /// Block until every worker can take a call at once (the process pool's
  /// workers have started). For jobs that want one call per worker, such as
  /// burn. Default: nothing to wait for.
  virtual void wait_ready() {}

  [[nodiscard]] virtual executor_kind kind() const noexcept = 0;
  /// How many calls may run at once.
  [[nodiscard]] virtual std::size_t concurrency() const noexcept = 0;

  [[nodiscard]] executor_stats& get_stats() noexcept { return stats_; }
  [[nodiscard]] const executor_stats& get_stats() const noexcept { return stats_; }

  /// One call; the future throws task_error when it fails.
  [[nodiscard]] std::future<bytes> submit(std::string name, bytes payload);

  /// Every payload through task `name`; results in input order. Blocks until all end.
  std::vector<result<bytes>> map(const std::string& name, std::vector<bytes> payloads);

  /// Every call (each with its own task and affinity); results in input order.
  /// Blocks until all end.
  std::vector<result<bytes>> run_calls(std::vector<task_call> calls);

  /// Every payload through task `name`; results as they complete.
  completion_stream as_completed(const std::string& name, std::vector<bytes> payloads);

  /// Every payload through task `name`; `on_result(i, r)` is called for i = 0,
  /// 1, 2, ... in input order, from the calling thread, as soon as the finished
  /// prefix grows (results that finish early wait in memory until their turn,
  /// then are freed). Blocks until all are delivered. The mode of every job
  /// that prints or writes results in input order while the rest still runs.
  void map_streaming(const std::string& name, std::vector<bytes> payloads,
                     const std::function<void(std::size_t, result<bytes>&)>& on_result);

 protected:
  executor_stats stats_;
};

/// Options shared by the executor factory.
struct executor_options {
  std::size_t jobs = 0;  ///< 0: one per core
  /// processes: the binary re-executed as a worker (see process_pool.h).
  std::string worker_executable = "/proc/self/exe";
  /// processes: a call running longer than this kills its worker (0: no limit).
  std::chrono::milliseconds task_timeout{0};
  /// processes: runs of a call that may die with their worker before it fails.
  int max_attempts = 2;
};

/// Make an executor of `kind`. @throws std::invalid_argument for a kind that is
/// not available in this build or needs more setup (distributed).
std::unique_ptr<executor> make_executor(executor_kind kind, const executor_options& options = {});

/// Runs each call in the calling thread, inside dispatch().
std::unique_ptr<executor> make_inline_executor();
/// Runs calls on a thread_pool of `threads` threads (0: one per core).
std::unique_ptr<executor> make_thread_executor(std::size_t threads);
/// Runs a dispatch() as one OpenMP parallel loop, inside dispatch().
std::unique_ptr<executor> make_openmp_executor(std::size_t threads);

/// Default parallelism: the number of cores.
std::size_t default_jobs() noexcept;

}  // namespace scalekit::core
