// scalekit worker: flags -> taskqueue::worker_options -> the worker; --status.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/core/task.h"
#include "scalekit/taskqueue/builtin_tasks.h"
#include "scalekit/taskqueue/control.h"
#include "scalekit/taskqueue/worker.h"
#include "worker_flags.h"

namespace scalekit::cli {

namespace {

namespace tq = taskqueue;

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t pos; (pos = s.find(',', start)) != std::string::npos; start = pos + 1)
    if (pos > start) out.push_back(s.substr(start, pos - start));
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

result<core::report> run_status(const worker_flags& f, core::observer& obs) {
  tq::status_options o;
  o.broker = f.w.broker;
  o.queues = split_commas(f.queues);
  o.stall_after = std::chrono::seconds(static_cast<long>(f.stall_s));
  return tq::show_status(o, obs);
}

// The worker on the executor `ex` makes (the caller's, so that it can outlive the job).
result<core::report> run_worker(worker_flags& f, std::unique_ptr<core::executor>& ex, core::observer& obs) {
  f.w.queues = split_commas(f.queues);
  if (!f.autoretry_for.empty()) f.w.autoretry_for = split_commas(f.autoretry_for);
  for (const auto& spec : f.rate_limits) {  // validated by the option's check
    const auto eq = spec.find('=');
    f.w.rate_limits[spec.substr(0, eq)] = tq::celery::parse_rate(spec.substr(eq + 1)).value_or(0);
  }
  f.w.visibility_timeout = std::chrono::seconds(static_cast<long>(f.visibility_s));
  f.w.grace = std::chrono::milliseconds(static_cast<long>(f.grace_s * 1000));
  f.w.result_expires = std::chrono::seconds(static_cast<long>(f.result_expires_s));
  f.w.log_tasks = f.loglevel == "info" || f.loglevel == "debug";
  f.w.log_timestamps = true;
  f.w.TEST_task_delay = std::chrono::milliseconds(f.test_delay_ms);
  // Tasks can say which worker ran them (core::runner_name): this process and its pool's, started next.
  ::setenv(core::runner_env, tq::worker_label(tq::worker_name(f.w), ::getpid()).c_str(), 1);
  executor_flags exec;
  exec.executor = f.pool;
  exec.jobs = f.concurrency;
  ex = exec.make();
  return tq::run_worker(f.w, *ex, obs);
}

void run(worker_flags& f) {
  if (f.status) {
    run_job("worker", [&f](core::observer& obs) { return run_status(f, obs); });
    return;
  }
  std::unique_ptr<core::executor> ex;
  bool abandoned = false;
  run_job("worker", [&](core::observer& obs) {
    auto r = run_worker(f, ex, obs);
    if (r.ok()) {
      const auto* requeued = r->find("requeued");
      const auto* dropped = r->find("abandoned_calls");  // revoked with terminate=True, still running
      abandoned = (requeued != nullptr && std::get<std::uint64_t>(*requeued) > 0) ||
                  (dropped != nullptr && std::get<std::uint64_t>(*dropped) > 0);
    }
    return r;
  });
  if (abandoned) {
    // Tasks still run in the pool, and were requeued for another worker (or
    // terminated by remote control): leave now rather than wait for them
    // (worker processes die with us).
    std::fflush(nullptr);
    std::_Exit(globals().exit_code);
  }
}

void add_command(CLI::App& command) {
  auto f = std::make_shared<worker_flags>();
  auto* cmd = &command;
  cmd->add_option("-b,--broker", f->w.broker, "redis://[:PASSWORD@]HOST[:PORT][/DB] (broker and result store)")
      ->capture_default_str();
  cmd->add_option("-Q,--queues", f->queues, "queues to consume, comma-separated")->capture_default_str();
  cmd->add_option("-c,--concurrency", f->concurrency, "tasks at once (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  cmd->add_option("-P,--pool", f->pool, "where tasks run: processes (crash-isolated, like Celery's prefork) or threads")
      ->check(CLI::IsMember({"processes", "threads"}))
      ->capture_default_str();
  cmd->add_option("--visibility-timeout", f->visibility_s,
                  "seconds after which a reservation of a dead worker is delivered again")
      ->check(CLI::Range(1.0, 86400.0 * 365))
      ->capture_default_str();
  cmd->add_option("--grace", f->grace_s, "on SIGTERM/SIGINT: seconds running tasks may take to finish before requeue")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  add_task_policy_flags(*cmd, *f);
  cmd->add_option("--max-deliveries", f->w.max_deliveries,
                  "deliveries that ended with a dead worker before a task goes to the dead-letter list")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--prefetch-multiplier", f->w.prefetch_multiplier,
                  "messages reserved per free slot: 1 is fair to other workers, more helps very short tasks")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--result-expires", f->result_expires_s, "seconds a stored result lives (Celery's default: a day)")
      ->check(CLI::Range(1.0, 86400.0 * 365))
      ->capture_default_str();
  cmd->add_option("--max-message-size", f->w.max_message_bytes,
                  "bytes: a larger task message is not run but dead-lettered, with a FAILURE result")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("-n,--hostname", f->w.hostname, "this worker's name (default scalekit@HOST)");
  cmd->add_option("-l,--loglevel", f->loglevel, "info: one line per task received and finished")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  cmd->add_flag("--status", f->status,
                "show live workers, queue depth and the oldest waiting task instead; exit 1 when not consuming");
  cmd->add_option("--stall-after", f->stall_s,
                  "--status: seconds without a fetch, with tasks waiting, that count as stalled")
      ->capture_default_str();
  cmd->add_option("--stop-after", f->w.stop_after, "stop after this many tasks (tests and benchmarks)")->group("");
  cmd->add_option("--test-task-delay", f->test_delay_ms, "hold each task this many ms first (fault tests)")->group("");
  cmd->callback([f] { run(*f); });
}

const command_registration registered{{"worker", add_command, taskqueue::celery::register_builtin_tasks}};

}  // namespace

}  // namespace scalekit::cli
