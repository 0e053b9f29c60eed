#include "executor_flags.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "runner.h"
#include "scalekit/taskqueue/client.h"

namespace scalekit::cli {

void executor_flags::add_to(CLI::App& cmd, const std::string& allowed, const std::string& default_kind,
                            bool celery_tasks) {
  executor = default_kind;
  std::vector<std::string> kinds;
  std::string rest = allowed;
  for (std::size_t pos; (pos = rest.find(',')) != std::string::npos; rest.erase(0, pos + 1))
    kinds.push_back(rest.substr(0, pos));
  kinds.push_back(rest);
  cmd.add_option("--executor", executor, "how to run the work: " + allowed)
      ->check(CLI::IsMember(kinds))
      ->capture_default_str();
  cmd.add_option("-j,--jobs", jobs, "parallel workers (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  if (std::find(kinds.begin(), kinds.end(), "distributed") != kinds.end()) {
    cmd.add_option("--broker", broker, "distributed: redis://[:PASSWORD@]HOST[:PORT][/DB] of the Celery workers")
        ->capture_default_str();
    if (celery_tasks)
      cmd.add_flag("--native-tasks", native_tasks,
                   "distributed: send scalekit.run tasks (fewer, larger; scalekit workers only) instead of the seed's "
                   "Celery tasks, which Python workers also run");
    cmd.add_option("--resend-after", resend_after_s, "distributed: publish again a task with no result after SECONDS")
        ->check(CLI::Range(0.0, 86400.0));
  }
}

core::executor_kind executor_flags::kind() const { return *core::parse_executor_kind(executor); }

std::unique_ptr<core::executor> executor_flags::make() const {
  if (kind() == core::executor_kind::distributed) {
    taskqueue::distributed_options d;
    d.broker = broker;
    d.celery_tasks = !native_tasks;
    d.jobs = jobs;
    d.resend_after = std::chrono::milliseconds(static_cast<long>(resend_after_s * 1000));
    d.log = [](const std::string& line) {
      std::fprintf(stderr, "scalekit: distributed: %s\n", line.c_str());
      std::fflush(stderr);
    };
    try {
      return taskqueue::make_distributed_executor(d);
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string("--broker: ") + e.what());
    }
  }
  core::executor_options o;
  o.jobs = effective_jobs();
  o.task_timeout = std::chrono::milliseconds(static_cast<long>(task_timeout_s * 1000));
  o.max_attempts = max_attempts;
  if (!worker_executable.empty()) o.worker_executable = worker_executable;
  spdlog::debug("executor {} with {} workers", executor, o.jobs);
  try {
    return core::make_executor(kind(), o);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

}  // namespace scalekit::cli
