#pragma once
// `scalekit worker`: consumes Celery task messages from Redis and runs them on
// a core executor, storing results as Celery does, so that Python Celery
// clients use it as they would a Python worker.
//
//   pop + reserve in one Lua call (unacked + unacked_index, as kombu does)
//        (only while a slot is free: prefetch 1 per free slot)
//   ──> core::async_call(executor, "celery:<task>") ──> SETEX+PUBLISH the meta ──> ack
//
// At-least-once: a message is acknowledged only after its result is stored.
// A worker that dies leaves its reservations in `unacked`; any worker
// restores those older than the visibility timeout (kombu's algorithm, same
// keys and lock), and a live worker keeps its running tasks' reservations
// fresh so long tasks are not delivered twice. A task whose deliveries keep
// killing workers (max_deliveries) goes to a dead-letter list with a FAILURE
// result. A stop (SIGTERM/SIGINT on the command line): stop reserving, let
// running tasks finish within `grace`, requeue the rest once, leave.
//
// Two entries of the one job shape (core/job.h): run_worker(), a service that
// runs until the observer's stop token fires, and show_status(), what
// `scalekit worker --status` prints.
//
// Keys scalekit adds carry an expiry: results (result_expires), delivery
// counters, dead letters, worker heartbeats. Celery's own shared structures
// (queue lists, unacked, unacked_index, the binding set) have none, by
// Celery's design.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::taskqueue {

struct redis_endpoint;

struct worker_options {
  std::string broker = "redis://127.0.0.1:6379/0";
  std::vector<std::string> queues{"celery"};
  std::chrono::seconds visibility_timeout{3600};  ///< Celery's default
  std::chrono::milliseconds grace{30000};         ///< on SIGTERM: how long running tasks may take to finish
  /// Celery's --time-limit and --soft-time-limit in seconds (0: none), for
  /// tasks whose message sets none (headers.timelimit).
  double time_limit = 0, soft_time_limit = 0;
  /// Celery's -E: send task events (spec 8.1); remote control can switch them.
  bool task_events = false;
  /// Celery's autoretry_for, max_retries and default_retry_delay for every
  /// task: a run that fails with one of these exception types ("TypeError" or
  /// "builtins.TypeError") is sent again (same id, retries + 1, after the
  /// delay) and stored as RETRY, until max_retries retries have failed.
  std::vector<std::string> autoretry_for;
  /// Celery's per-task rate_limit: task name -> tasks per second (the remote
  /// `rate_limit` command changes them while the worker runs).
  std::map<std::string, double> rate_limits;
  int max_retries = 3;
  double retry_delay = 180;
  int max_deliveries = 3;  ///< deliveries that killed a worker before dead-lettering
  /// Messages held per slot (reserved, not yet run). 1, the default, is fair:
  /// a busy worker holds nothing another could start. Celery's default is 4.
  int prefetch_multiplier = 1;
  std::chrono::seconds result_expires{86400};  ///< Celery's default result_expires
  /// Larger task messages are not parsed: dead-lettered, with a FAILURE
  /// (kombu.exceptions.LimitExceeded) stored for their id. Bounds the memory a
  /// client can make a worker spend on one message (a few times this).
  std::size_t max_message_bytes = 16 << 20;
  std::string hostname;    ///< empty: "scalekit@<host>"
  bool log_tasks = false;  ///< one message per task received / succeeded / failed
  /// Before the first fetch, take the revoked ids of the workers already
  /// running (Celery's mingle; --without-mingle turns it off).
  bool mingle = true;
  bool log_timestamps = false;  ///< messages start with the local time, "[2024-05-01 12:00:00] "
  /// Stop by itself once this many tasks have finished (tests and benchmarks); 0: no limit.
  std::uint64_t stop_after = 0;
  /// Test hook: hold every task this long before running it (slow jobs for fault tests).
  std::chrono::milliseconds TEST_task_delay{0};
};

/// The name a worker with these options goes by: o.hostname, or "scalekit@<host>".
std::string worker_name(const worker_options& o);
/// How `worker --status` lists a live worker: "NAME (pid N)". A worker's tasks
/// see it as core::runner_name() when the command line sets core::runner_env.
std::string worker_label(const std::string& name, int pid);

struct worker_stats {
  std::uint64_t received = 0, succeeded = 0, failed = 0;
  std::uint64_t restored = 0;       ///< stale reservations (of dead workers) put back in their queue
  std::uint64_t dead_lettered = 0;  ///< poison or unparseable messages
  std::uint64_t requeued = 0;       ///< requeued at shutdown, unfinished
  std::uint64_t reconnects = 0;     ///< broker connections opened after the first
  /// Calls of tasks revoked with terminate=True that still ran at the end
  /// (their REVOKED is stored; the process may leave without them).
  std::uint64_t abandoned_calls = 0;
};

/// Serve on `ex` until `obs.stop_token()` fires (or o.stop_after tasks have
/// finished), then return the report. On the stop: fetch no more, give
/// running tasks o.grace, requeue the unfinished ones once, say goodbye. The
/// stop does not cancel `ex` (running tasks get their grace); when tasks were
/// requeued unfinished, `ex` is cancelled (worker processes end) and its
/// calls are abandoned: the caller should end the process rather than wait
/// for them (the report's "requeued" is not 0).
///
/// Messages: one per notable event ("worker NAME consuming QUEUES from URL
/// with N slots (KIND)", "stop requested: ...", "broker unreachable (...);
/// retrying", "requeued unfinished task ID", bad and dead-lettered messages),
/// and with o.log_tasks one per task received, succeeded or failed. Tasks
/// that fail are their clients' failures, not the worker's: the report counts
/// them, report::failures stays 0.
///
/// Report ("worker"): received, succeeded, failed, restored (stale
/// reservations of dead workers put back), dead_lettered, requeued (at the
/// stop, unfinished), reconnects, name, and the executor's fields.
///
/// Errors: invalid_argument at once for a bad broker URL or no queue; an
/// unreachable broker is retried, not an error.
result<core::report> run_worker(const worker_options& o, core::executor& ex, core::observer& obs);

/// What `scalekit worker --status` shows: live workers (from their
/// heartbeats), queue depths, the oldest waiting task's age, and a verdict.
struct status_report {
  struct worker_info {
    std::string name;
    std::uint64_t active = 0, processed = 0, failed = 0;
    double last_fetch_age_s = -1;  ///< seconds since it last took a message (-1: never)
    std::size_t concurrency = 0;
    std::string pool;
  };
  std::vector<worker_info> workers;
  std::uint64_t waiting = 0;  ///< messages in the queues
  std::uint64_t unacked = 0;  ///< reserved, not yet acknowledged
  std::uint64_t dead_letters = 0;
  double oldest_waiting_age_s = -1;  ///< -1: empty, or sent by a client that does not stamp messages
  bool consuming = true;             ///< false: tasks wait and no worker has fetched for `stall_after`
  std::string verdict;               ///< "ok", "idle" or "not consuming: ..."
};
/// Fails when the broker URL is bad (invalid_argument), Redis does not answer
/// (not connected within `connect_timeout`: a paused Redis accepts and never
/// answers), or answers SCAN with an error (LOADING, an ACL).
result<status_report> query_status(const std::string& broker, const std::vector<std::string>& queues,
                                   std::chrono::seconds stall_after = std::chrono::seconds(30),
                                   std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));

struct status_options {
  std::string broker = "redis://127.0.0.1:6379/0";
  std::vector<std::string> queues{"celery"};
  std::chrono::seconds stall_after{30};  ///< no fetch for this long, with tasks waiting: not consuming
};

/// `scalekit worker --status`: query_status() as output lines (the live
/// workers, the queues, "health: VERDICT") and as a report ("worker
/// --status": workers, a list with name, active, processed, failed,
/// concurrency, pool and last_fetch_age_s each; waiting, unacked,
/// dead_letters, oldest_waiting_age_s, consuming, verdict). Not consuming
/// is a failure (report::failures 1). Errors: those of query_status().
result<core::report> show_status(const status_options& o, core::observer& obs);

}  // namespace scalekit::taskqueue
