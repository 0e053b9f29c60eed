#pragma once
// The Celery tasks every scalekit worker serves besides the jobs' own (spec
// section 7):
//
//   scalekit.run(task, payload_b64) -> pack_bytes(output)   any registered core task:
//                                          what carries `--executor distributed`
//   bench_tasks.add(x, y) -> x + y         the throughput benchmark's trivial task (Python's +)
//   bench_tasks.tsum(numbers) -> sum       Python's sum(): a chord's body in the canvas benchmark
//   scalekit.sleep(seconds) -> seconds     a task that takes time (deployments, fault tests)

namespace scalekit::taskqueue::celery {

/// The Celery task that runs any registered core task: scalekit.run(name,
/// base64 payload) -> pack_bytes(result) (packing.h).
inline constexpr const char* run_task_name = "scalekit.run";

/// Register scalekit.run, bench_tasks.add, bench_tasks.tsum and scalekit.sleep (registry.h).
/// REQUIRES: once, at program start, before executors start.
/// @throws std::invalid_argument when called twice.
void register_builtin_tasks();

}  // namespace scalekit::taskqueue::celery
