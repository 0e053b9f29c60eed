// scalekit worker: a Celery-compatible worker on Redis, and --status.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/core/signals.h"
#include "scalekit/taskqueue/celery.h"
#include "scalekit/taskqueue/worker.h"

namespace scalekit::cli {

namespace {

struct worker_cli_options {
  taskqueue::worker_options w;
  std::string queues = "celery";
  std::size_t concurrency = 0;
  std::string pool = "processes";
  double visibility_s = 3600, grace_s = 30, result_expires_s = 86400;
  std::string loglevel = "warning";
  bool status = false;
  double stall_s = 30;
  std::uint64_t stop_after = 0;
  long test_delay_ms = 0;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t pos; (pos = s.find(',', start)) != std::string::npos; start = pos + 1)
    if (pos > start) out.push_back(s.substr(start, pos - start));
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

void log_line(const std::string& line) {
  if (globals().quiet) return;
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  std::fprintf(stderr, "[%s] worker: %s\n", stamp, line.c_str());
  std::fflush(stderr);
}

int run_status(const worker_cli_options& o) {
  auto r = taskqueue::query_status(o.w.broker, o.w.queues, std::chrono::seconds(static_cast<long>(o.stall_s)));
  if (!r.ok()) throw std::runtime_error(r.error().message());
  const auto& s = r.value();
  if (globals().json) {
    nlohmann::json workers = nlohmann::json::array();
    for (const auto& w : s.workers)
      workers.push_back({{"name", w.name},
                         {"active", w.active},
                         {"processed", w.processed},
                         {"failed", w.failed},
                         {"concurrency", w.concurrency},
                         {"pool", w.pool},
                         {"last_fetch_age_s", w.last_fetch_age_s}});
    std::printf("%s\n", nlohmann::json{{"workers", workers},
                                       {"waiting", s.waiting},
                                       {"unacked", s.unacked},
                                       {"dead_letters", s.dead_letters},
                                       {"oldest_waiting_age_s", s.oldest_waiting_age_s},
                                       {"consuming", s.consuming},
                                       {"verdict", s.verdict}}
                            .dump()
                            .c_str());
  } else {
    std::printf("%zu live workers\n", s.workers.size());
    for (const auto& w : s.workers)
      std::printf("  %s: %s x%zu, %llu active, %llu done, %llu failed, last fetch %s\n", w.name.c_str(), w.pool.c_str(),
                  w.concurrency, static_cast<unsigned long long>(w.active),
                  static_cast<unsigned long long>(w.processed), static_cast<unsigned long long>(w.failed),
                  w.last_fetch_age_s < 0 ? "never" : fmt::format("{:.1f} s ago", w.last_fetch_age_s).c_str());
    std::printf("queue depth %llu, reserved (unacked) %llu, dead letters %llu, oldest waiting task %s\n",
                static_cast<unsigned long long>(s.waiting), static_cast<unsigned long long>(s.unacked),
                static_cast<unsigned long long>(s.dead_letters),
                s.oldest_waiting_age_s < 0 ? "-" : fmt::format("{:.1f} s", s.oldest_waiting_age_s).c_str());
    std::printf("health: %s\n", s.verdict.c_str());
  }
  return s.consuming ? exit_ok : exit_failed;
}

int run(worker_cli_options& o) {
  o.w.queues = split_commas(o.queues);
  if (o.w.queues.empty()) throw usage_error("--queues: no queue named");
  if (o.status) return run_status(o);
  o.w.visibility_timeout = std::chrono::seconds(static_cast<long>(o.visibility_s));
  o.w.grace = std::chrono::milliseconds(static_cast<long>(o.grace_s * 1000));
  o.w.result_expires = std::chrono::seconds(static_cast<long>(o.result_expires_s));
  o.w.log_tasks = o.loglevel == "info" || o.loglevel == "debug";
  o.w.TEST_task_delay = std::chrono::milliseconds(o.test_delay_ms);
  executor_flags exec;
  exec.executor = o.pool;
  exec.jobs = o.concurrency;
  auto ex = exec.make();
  const auto t0 = std::chrono::steady_clock::now();
  auto wo = o.w;
  wo.stop = core::stop_signals::install().token();
  auto r = taskqueue::run_worker(wo, *ex, log_line, o.stop_after);
  if (!r.ok()) throw usage_error(r.error().message());
  const auto& s = r.value();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  print_summary(
      "worker",
      fmt::format("{} tasks received, {} succeeded, {} failed, {} restored from dead workers, {} dead-lettered, "
                  "{} requeued at shutdown",
                  s.received, s.succeeded, s.failed, s.restored, s.dead_lettered, s.requeued),
      elapsed, static_cast<double>(s.succeeded + s.failed), "tasks",
      fmt::format("{} x{}, {} broker reconnects, {}", o.pool, ex->concurrency(), s.reconnects,
                  ex->get_stats().latency_summary()));
  if (globals().json) {
    std::printf("%s\n", nlohmann::json{{"job", "worker"},
                                       {"received", s.received},
                                       {"succeeded", s.succeeded},
                                       {"failed", s.failed},
                                       {"restored", s.restored},
                                       {"dead_lettered", s.dead_lettered},
                                       {"requeued", s.requeued},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  }
  if (s.requeued > 0) {
    // Tasks still run in the pool, and were requeued for another worker: leave
    // now rather than wait for them (worker processes die with us).
    std::fflush(nullptr);
    std::_Exit(exit_ok);
  }
  return exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<worker_cli_options>();
  auto* cmd = &command;
  cmd->add_option("-b,--broker", o->w.broker, "redis://[:PASSWORD@]HOST[:PORT][/DB] (broker and result store)")
      ->capture_default_str();
  cmd->add_option("-Q,--queues", o->queues, "queues to consume, comma-separated")->capture_default_str();
  cmd->add_option("-c,--concurrency", o->concurrency, "tasks at once (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  cmd->add_option("-P,--pool", o->pool, "where tasks run: processes (crash-isolated, like Celery's prefork) or threads")
      ->check(CLI::IsMember({"processes", "threads"}))
      ->capture_default_str();
  cmd->add_option("--visibility-timeout", o->visibility_s,
                  "seconds after which a reservation of a dead worker is delivered again")
      ->check(CLI::Range(1.0, 86400.0 * 365))
      ->capture_default_str();
  cmd->add_option("--grace", o->grace_s, "on SIGTERM/SIGINT: seconds running tasks may take to finish before requeue")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--max-deliveries", o->w.max_deliveries,
                  "deliveries that ended with a dead worker before a task goes to the dead-letter list")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--prefetch-multiplier", o->w.prefetch_multiplier,
                  "messages reserved per free slot: 1 is fair to other workers, more helps very short tasks")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--result-expires", o->result_expires_s, "seconds a stored result lives (Celery's default: a day)")
      ->check(CLI::Range(1.0, 86400.0 * 365))
      ->capture_default_str();
  cmd->add_option("-n,--hostname", o->w.hostname, "this worker's name (default scalekit@HOST)");
  cmd->add_option("-l,--loglevel", o->loglevel, "info: one line per task received and finished")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  cmd->add_flag("--status", o->status,
                "show live workers, queue depth and the oldest waiting task instead; exit 1 when not consuming");
  cmd->add_option("--stall-after", o->stall_s,
                  "--status: seconds without a fetch, with tasks waiting, that count as stalled")
      ->capture_default_str();
  cmd->add_option("--stop-after", o->stop_after, "stop after this many tasks (tests and benchmarks)")->group("");
  cmd->add_option("--test-task-delay", o->test_delay_ms, "hold each task this many ms first (fault tests)")->group("");
  cmd->callback([o] { run_job("worker", [&] { return run(*o); }); });
}

const command_registration registered{{"worker", add_command, taskqueue::celery::register_builtin_tasks}};

}  // namespace

}  // namespace scalekit::cli
