#pragma once
// --executor and -j/--jobs, as a command declares them (and, where
// `distributed` is allowed, --broker, --native-tasks and --resend-after).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "scalekit/core/executor.h"

namespace CLI {
class App;
}

namespace scalekit::cli {

struct executor_flags {
  std::string executor = "threads";
  std::size_t jobs = 0;  ///< 0: number of cores (distributed: the live workers' slots)
  std::string broker = "redis://127.0.0.1:6379/0";
  bool native_tasks = false;
  double resend_after_s = 0;
  double task_timeout_s = 0;  ///< processes: kill a worker whose call runs longer (0: no limit)
  int max_attempts = 2;       ///< processes: runs of a call that may die with its worker
  /// processes: the program each worker runs (core::executor_options::worker_executable);
  /// empty: this one, re-executed.
  std::string worker_executable;
  /// Add --executor (restricted to `allowed`, comma-separated) and -j/--jobs to `cmd`.
  /// `celery_tasks`: the job's tasks have Celery forms (the seed's), so
  /// --native-tasks has a choice to make; false (primes): it is not offered.
  void add_to(CLI::App& cmd, const std::string& allowed, const std::string& default_kind, bool celery_tasks = true);
  [[nodiscard]] core::executor_kind kind() const;
  [[nodiscard]] std::size_t effective_jobs() const { return jobs == 0 ? core::default_jobs() : jobs; }
  /// Builds the executor; @throws usage_error when it cannot be built here.
  [[nodiscard]] std::unique_ptr<core::executor> make() const;
};

}  // namespace scalekit::cli
