// `scalekit worker`'s per-task policies, as Celery's task options (time
// limits, automatic retries, rate limits), and Celery's switches for events
// and mingle.

#include <string>

#include "scalekit/taskqueue/control.h"
#include "worker_flags.h"

namespace scalekit::cli {

namespace tq = taskqueue;

void add_task_policy_flags(CLI::App& command, worker_flags& flags) {
  auto* cmd = &command;
  auto* f = &flags;
  cmd->add_option("--time-limit", f->w.time_limit,
                  "hard time limit in seconds for tasks whose message sets none (Celery's; 0: none)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--soft-time-limit", f->w.soft_time_limit,
                  "soft time limit in seconds, likewise (a C++ task cannot catch it: it fails at once)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--autoretry-for", f->autoretry_for,
                  "exception types (TypeError or builtins.TypeError, comma-separated) whose failures are retried, "
                  "as Celery's autoretry_for");
  cmd->add_option(
         "--rate-limit", f->rate_limits,
         "TASK=RATE: at most RATE tasks of that name start (10/s, 100/m, 2/h; Celery's rate_limit); repeatable")
      ->check([](const std::string& spec) -> std::string {
        const auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0) return "expected TASK=RATE, e.g. bench_tasks.add=10/s";
        if (!tq::celery::parse_rate(spec.substr(eq + 1)))
          return "'" + spec.substr(eq + 1) + "' is not a rate (10/s, 100/m, 2/h)";
        return "";
      });
  cmd->add_option("--max-retries", f->w.max_retries, "retries before such a failure is final (Celery's max_retries)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--retry-delay", f->w.retry_delay, "seconds before a retry (Celery's default_retry_delay)")
      ->check(CLI::Range(0.0, 86400.0 * 365))
      ->capture_default_str();
  cmd->add_flag("-E,--task-events", f->w.task_events,
                "send Celery's task events (task-received, -started, -succeeded, -failed, -revoked)");
  cmd->add_flag_callback(
      "--without-mingle", [f] { f->w.mingle = false; },
      "do not ask the running workers for their revoked task ids at start (Celery's mingle)");
}

}  // namespace scalekit::cli
