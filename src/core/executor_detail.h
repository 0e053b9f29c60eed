#pragma once
// Internals shared by the in-process executors.

#include <chrono>

#include "scalekit/core/executor.h"

namespace scalekit::core::detail {

/// Run one call through the registry, time it, count it, complete it.
inline void run_and_complete(const task_call& call, std::size_t index, const completion_fn& done,
                             executor_stats& stats) {
  bytes out;
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = run_task_inline(call.name, call.payload, out);
  stats.service_time.record(std::chrono::steady_clock::now() - t0);
  if (ok) {
    stats.completed.fetch_add(1, std::memory_order_relaxed);
    done(index, result<bytes>(std::move(out)));
  } else {
    stats.failed.fetch_add(1, std::memory_order_relaxed);
    done(index, status::task_failed("task '" + call.name + "' failed: " + out));
  }
}

inline status cancelled_status(const task_call& call, const char* why) {
  return status::cancelled("task '" + call.name + "' not run: " + why);
}

}  // namespace scalekit::core::detail
