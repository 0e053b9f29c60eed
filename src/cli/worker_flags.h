#pragma once
// The flags of `scalekit worker`, shared by worker_cmd.cc (the command) and
// worker_task_flags.cc (the per-task policies: time limits, retries, rates).

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "scalekit/taskqueue/worker.h"

namespace scalekit::cli {

struct worker_flags {
  taskqueue::worker_options w;
  std::string queues = "celery";
  std::string autoretry_for;
  std::vector<std::string> rate_limits;
  std::size_t concurrency = 0;
  std::string pool = "processes";
  double visibility_s = 3600, grace_s = 30, result_expires_s = 86400;
  std::string loglevel = "warning";
  bool status = false;
  double stall_s = 30;
  long test_delay_ms = 0;
};

/// --time-limit, --soft-time-limit, --autoretry-for, --rate-limit, --max-retries, --retry-delay.
void add_task_policy_flags(CLI::App& cmd, worker_flags& f);

}  // namespace scalekit::cli
