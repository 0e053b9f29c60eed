// scalekit serve: flags -> serve::options -> the master (or, in a process it started, a worker).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>

#include "command.h"
#include "runner.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/primes/primes.h"
#include "scalekit/jobs/sort_service/sort_service.h"
#include "scalekit/serve/serve.h"
#include "serve_checks.h"

namespace scalekit::cli {

namespace {

struct serve_flags {
  serve::options o;
  std::vector<std::string> wsgi, mounts;
  std::string order, executor;  // order: 'w' for each --wsgi, 'm' for each --mount, in the command line's order
  double timeout_s = 30, grace_s = 30, upgrade_timeout_s = 60, max_lifetime_s = 0, max_lifetime_jitter_s = 0,
         broker_timeout_s = 10, queue_wait_s = -1;  // -1: not given
  bool broker_timeout_given = false;
};

result<core::report> run(serve_flags& f, core::observer& obs) {
  f.o.apps = pair_apps(f.wsgi, f.mounts, f.order);
  f.o.timeout = whole_ms(f.timeout_s);
  f.o.grace = whole_ms(f.grace_s);
  f.o.upgrade_timeout = whole_ms(f.upgrade_timeout_s);
  f.o.max_lifetime = whole_ms(f.max_lifetime_s);
  f.o.max_lifetime_jitter = whole_ms(f.max_lifetime_jitter_s);
  // With a broker, the jobs run on its workers unless --executor says otherwise.
  f.o.executor = !f.executor.empty() ? f.executor : f.o.broker.empty() ? "threads" : "distributed";
  if (f.o.executor == "distributed" && f.o.broker.empty())
    throw usage_error("--executor distributed needs --broker URL");
  if (!f.o.broker.empty()) f.o.broker_timeout = broker_wait(f.broker_timeout_s, f.broker_timeout_given, f.timeout_s);
  f.o.queue_wait = queue_wait(f.queue_wait_s, f.timeout_s);
  f.o.self_argv = program_arguments();
  if (auto worker = serve::run_worker_if_started(f.o, obs)) {
    // A worker's report is the master's business: its summary would be noise.
    globals().quiet = true;
    return std::move(*worker);
  }
  check_master(f.o);  // not in workers: the master checked, and a --pid directory gone since must not fail them
  return serve::serve(f.o, obs);
}

void add_command(CLI::App& command) {
  auto f = std::make_shared<serve_flags>();
  auto* cmd = &command;
  f->o.listen.clear();
  cmd->add_option("--listen", f->o.listen, "HOST:PORT to listen on (repeatable; port 0: any free one)")
      ->default_str("127.0.0.1:8080");
  cmd->add_option("-w,--workers", f->o.workers, "worker processes (default: one per core)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  cmd->add_option("--threads", f->o.threads, "threads per worker for blocking application work")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
      ->capture_default_str();
  auto* wsgi =
      cmd->add_option("--wsgi", f->wsgi, "a WSGI application MODULE:CALLABLE (repeatable)")->allow_extra_args(false);
  auto* mount =
      cmd->add_option("--mount", f->mounts, "the URL prefix of the --wsgi app just before it (default /; one each)")
          ->allow_extra_args(false);
  cmd->add_option("--chdir", f->o.chdir, "the applications' working directory")->check(CLI::ExistingDirectory);
  cmd->add_option("--pythonpath", f->o.pythonpath, "directories to import the applications from, ':' between them")
      ->check(existing_directories());
  cmd->add_option("--timeout", f->timeout_s,
                  "seconds a request may run: then 504, and its worker is replaced (0: no limit)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--grace", f->grace_s, "seconds stopping workers get to finish their requests")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--upgrade-timeout", f->upgrade_timeout_s,
                  "seconds a new master (USR2) gets until its workers accept")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--max-requests", f->o.max_requests, "recycle a worker after this many requests (0: never)");
  cmd->add_option("--max-requests-jitter", f->o.max_requests_jitter,
                  "plus up to this many, so they do not recycle together");
  cmd->add_option("--max-rss", f->o.max_rss_mb, "recycle a worker above this many MiB resident (0: never)");
  cmd->add_option("--max-lifetime", f->max_lifetime_s, "recycle a worker after this many seconds (0: never)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--max-lifetime-jitter", f->max_lifetime_jitter_s,
                  "plus up to this many seconds, so they do not recycle together")
      ->check(CLI::Range(0.0, 1e9));
  // Past a TiB, a body read whole or a cache in memory is no bound at all (and MiB << 20 would wrap).
  cmd->add_option("--max-body", f->o.max_body, "largest request body in bytes (larger: 413)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--cache-mb", f->o.cache_mb, "MiB each worker keeps of job answers (tiles, primes; 0: none)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--cache", f->o.cache, "redis://HOST:PORT[/DB]: a Redis cache of job answers all workers share")
      ->check(redis_url());
  cmd->add_option("--cache-ttl", f->o.cache_ttl, "seconds an answer stays in --cache")
      ->check(CLI::Range(1u, 30u * 86400))
      ->capture_default_str();
  cmd->add_flag("--degrade", f->o.degrade, "past --queue, serve a cached or coarser tile instead of 503");
  cmd->add_option("--queue", f->o.queue, "requests a worker holds for its threads; past that, 503")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--queue-wait", f->queue_wait_s,
                  "seconds a request may wait for a thread (a tenth while the queue stands), then 503 or --degrade's "
                  "answer; under --timeout (default 0: --queue alone bounds the wait)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--executor", f->executor,
                  "where a worker runs scalekit's jobs: serial, threads (the default), processes, openmp or "
                  "distributed (the default with --broker)")
      ->check(CLI::IsMember({"serial", "threads", "processes", "openmp", "distributed"}));
  cmd->add_option("--broker", f->o.broker, "redis://[:PASSWORD@]HOST[:PORT][/DB]: run the jobs on its scalekit workers")
      ->check(redis_url());
  cmd->add_option("--broker-queue", f->o.broker_queue, "the queue the distributed workers consume")
      ->capture_default_str();
  cmd->add_option("--broker-timeout", f->broker_timeout_s,
                  "seconds a request waits for the distributed workers, under --timeout: then 504 (503 when none "
                  "is alive; default: 10, or half of a shorter --timeout)")
      ->check(CLI::Range(0.1, 3600.0))
      ->each([f](const std::string&) { f->broker_timeout_given = true; });
  cmd->add_option("--broker-backlog", f->o.broker_backlog, "tasks the broker may leave untaken; past them, 503")
      ->capture_default_str();
  cmd->add_option("--pid", f->o.pid_file, "write the master's pid to FILE (a new master's after USR2)");
  cmd->add_flag("--preload", f->o.preload,
                "import the --wsgi apps once before starting workers: a broken app fails the start (status 2)");
  cmd->add_option("-j,--jobs", f->o.jobs, "the jobs executor's workers, in each worker (default: one per core)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  cmd->footer(serve_footer());
  cmd->callback([f, cmd, wsgi, mount] {
    if (f->o.listen.empty()) f->o.listen.push_back("127.0.0.1:8080");
    f->order.clear();
    for (const CLI::Option* opt : cmd->parse_order())
      if (opt == wsgi || opt == mount) f->order += opt == wsgi ? 'w' : 'm';
    run_job("serve", [f](core::observer& obs) { return run(*f, obs); });
  });
}

void register_tasks() {
  jobs::mandelbrot::register_tasks();  // tiles render on the jobs executor, worker processes included
  jobs::primes::register_tasks();
  jobs::sort_service::register_tasks();
}

const command_registration registered{{"serve", add_command, register_tasks}};

}  // namespace

}  // namespace scalekit::cli
