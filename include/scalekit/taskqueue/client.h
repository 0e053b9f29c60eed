#pragma once
// The producer side of the distributed queue: publish Celery task messages
// and wait for their results, as Python's group(...).apply_async().join()
// does; and `--executor distributed`, a core::executor whose calls run on
// Celery-speaking workers.
//
//   distributed executor ── dispatch(task_calls) ──> celery_client (own loop thread)
//       calls with a Celery mapping (e.g. mandelbrot.rows -> one
//       mandelbrot_tasks.mandelbrot_calc_row per row): Python workers serve them too
//       other calls: scalekit.run(name, payload) for scalekit workers
//   results: SUBSCRIBE celery-task-meta-<id> before publishing, MGET as a
//   safety net, republish what a restarted broker lost.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/status.h"

namespace scalekit::taskqueue {

/// How a core task maps onto Celery tasks that other workers (Python's
/// included) understand: one call becomes several Celery tasks, whose JSON
/// results become the call's bytes again.
struct celery_mapping {
  /// The Celery tasks for one call: (task name, args as a JSON array); none
  /// when the Celery tasks cannot express this call (it then goes as one
  /// scalekit.run, which only scalekit workers serve).
  std::function<std::vector<std::pair<std::string, std::string>>(std::string_view payload)> to_tasks;
  /// The call's result from its tasks' results (JSON text, in to_tasks order).
  /// @throws std::exception when a result is malformed.
  std::function<core::bytes(std::string_view payload, const std::vector<std::string>& results)> from_results;
};
/// Register a mapping for core task `core_task`. REQUIRES: at program start.
void register_celery_mapping(const std::string& core_task, celery_mapping m);

struct distributed_options {
  std::string broker = "redis://127.0.0.1:6379/0";
  std::string queue = "celery";
  /// true: calls with a Celery mapping use it (any Celery worker serves them);
  /// false: every call is scalekit.run (scalekit workers only; fewer, larger messages).
  bool celery_tasks = true;
  /// What concurrency() reports (jobs use it to size their work); 0: the
  /// slots of the live workers seen at start (at least 1).
  std::size_t jobs = 0;
  /// Republish a task with no result after this long (0: never). Results
  /// are idempotent: a duplicate costs time, not correctness.
  std::chrono::milliseconds resend_after{0};
  /// A call with no result this long after its dispatch completes with a
  /// `timeout` status (0: it waits as long as it takes). Its tasks may still
  /// run on the workers; their results are ignored. Bounds a caller's wait
  /// when the workers are slow or gone, or the broker is unreachable.
  std::chrono::milliseconds task_timeout{0};
  /// Bounds on the tasks published and not yet taken by the broker (a paused
  /// or slow Redis holds them in this process's memory): past either, a call
  /// fails at once with `too_large`, said once in the log, until the broker
  /// takes what waits. 0: no bound.
  std::size_t max_unsent_tasks = 0;
  std::size_t max_unsent_bytes = 0;
  std::function<void(const std::string&)> log;  ///< broker trouble, one line each
};

/// A core::executor on Celery workers. dispatch() publishes at once; results
/// complete calls from the executor's own loop thread. A call fails when its
/// task fails (the worker's exception type and message) or the executor is
/// closed first.
/// @throws std::invalid_argument for a bad broker URL.
std::unique_ptr<core::executor> make_distributed_executor(const distributed_options& o);

/// Publish Celery tasks (name, args as a JSON array) as one group and wait for
/// them all: each task's result as JSON text, or a status naming its exception.
/// For tools and benchmarks. @throws std::invalid_argument for a bad broker URL.
std::vector<result<std::string>> run_celery_tasks(const distributed_options& o,
                                                  const std::vector<std::pair<std::string, std::string>>& tasks);

}  // namespace scalekit::taskqueue
