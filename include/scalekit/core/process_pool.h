#pragma once
// process_pool: an executor whose calls run in separate worker processes, so a
// task that crashes, leaks or hangs costs one failed call, not the program.
//
// Safe in a multithreaded program: workers are never fork()ed from it. Each one
// is a fresh exec of the program's own binary (posix_spawn of /proc/self/exe)
// in worker mode, connected by a socket pair; calls travel as
// (registered task name, payload bytes) frames, batched.
//
//   caller ─dispatch─> pending deque ─┐   supervisor thread (poll)
//                  (pinned deque per  ├─> worker 1  (exec'd binary, --scalekit-worker)
//                   worker slot)      │
//   done(i, r) <─────── results ──────┴─> worker N
//
// A call with an affinity (task_call::affinity) waits in its worker slot's own
// queue and runs only there; a worker takes its pinned calls before shared ones.
//
// Guarantees:
// - A worker that dies (crash, SIGKILL, timeout) is replaced. Each call it held
//   runs once more, alone (batches are split so one bad call cannot fail its
//   neighbours); if it kills its worker again it completes with a task_failed
//   status that names the task. Nothing is lost and map() never hangs.
// - Tiny calls are batched: a batch aims at ~2 ms of work, measured per task
//   name as results arrive, and is never larger than a fair share of what is left.
// - Workers die with their master (PR_SET_PDEATHSIG) and ignore SIGINT, so one
//   Ctrl-C ends the program and leaves no orphan.
//
// REQUIRES: the binary calls run_worker_if_requested() at the top of main(),
// after registering its tasks in task_registry::global().
// Thread safety: every member function is thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "scalekit/core/executor.h"

namespace scalekit::core {

struct process_pool_options {
  /// Worker processes. 0: one per core.
  std::size_t workers = 0;
  /// Binary re-executed as a worker. It must be this program (or one that
  /// registers the same tasks).
  std::string executable = "/proc/self/exe";
  /// Runs of one call that may die with their worker before it is reported failed.
  int max_attempts = 2;
  /// Kill a worker whose call runs longer than this (zero: no limit). The call
  /// then counts as one that killed its worker.
  std::chrono::milliseconds task_timeout{0};
  /// Upper bound of calls per batch; 0 means automatic (up to 65536).
  std::size_t max_batch = 0;
};

class process_pool final : public executor {
 public:
  /// Starts the workers. @throws std::system_error when the supervisor cannot start.
  explicit process_pool(process_pool_options options = {});
  ~process_pool() override;  ///< close()

  void dispatch(std::vector<task_call> calls, completion_fn done) override;
  void close() override;
  void terminate() override;
  /// Drops queued calls and sends SIGTERM to the workers that run calls (they
  /// remove their temporary files and die; SIGKILL after a second); their
  /// calls complete as `cancelled`, never run again.
  void cancel() noexcept override;
  /// Blocks until every worker has started (or starting them failed).
  void wait_ready() override;
  [[nodiscard]] executor_kind kind() const noexcept override { return executor_kind::processes; }
  [[nodiscard]] std::size_t concurrency() const noexcept override { return options_.workers; }

  /// Process ids of the live workers (a snapshot, for tests and monitoring).
  [[nodiscard]] std::vector<int> get_worker_pids() const;

 private:
  struct call_group;
  struct item {
    std::shared_ptr<call_group> group;
    std::size_t index;
    int attempts = 0;
    bool solo = false;  // runs in a batch of its own (a retry after a crash)
  };
  struct worker;

  bool nothing_queued() const;                 // REQUIRES mutex_ held
  static bool stopped_call(const item& it);    // its task_call::stop was set
  std::deque<item>& queue_of(const item& it);  // REQUIRES mutex_ held
  void supervise();
  void spawn_worker(worker& w);
  void assign_batches();
  bool handle_readable(worker& w);
  void handle_death(worker& w, const std::string& why);
  void fail_everything(const std::string& why);
  void wake();

  process_pool_options options_;
  int wake_fd_ = -1;
  std::thread supervisor_;

  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  // State below is protected by mutex_.
  std::deque<item> pending_;
  std::vector<std::deque<item>> pinned_;  // per worker slot: calls with an affinity
  std::size_t in_flight_ = 0;
  bool closing_ = false;    // no new calls
  bool stopping_ = false;   // supervisor should exit once idle
  bool broken_ = false;     // workers cannot start: calls fail at once
  bool cancelled_ = false;  // cancel(): running calls are ended, not retried
  std::string broken_reason_;
  std::vector<int> pids_;
  std::size_t ready_workers_ = 0;

  // Supervisor-thread only.
  std::vector<std::unique_ptr<worker>> workers_;
  std::unordered_map<std::string, double> avg_service_ns_;
  int consecutive_start_failures_ = 0;
};

/// Worker-mode entry point. Returns nullopt when argv does not ask for worker
/// mode; otherwise serves calls until the master goes away and returns the exit
/// status. Call first thing in main(), after registering tasks.
std::optional<int> run_worker_if_requested(int argc, char** argv);

}  // namespace scalekit::core
