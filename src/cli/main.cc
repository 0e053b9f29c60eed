// scalekit: one binary, a subcommand per job. This file only wires the
// subcommands together; each lives in its own <job>_cmd.cc.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/dist/celery.h"
#include "scalekit/jobs/burn/burn.h"
#include "scalekit/jobs/factorial/factorial.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/numbers/numbers.h"
#include "scalekit/jobs/primes/primes.h"
#include "scalekit/jobs/search/search.h"
#include "scalekit/jobs/sort_service/sort_service.h"

namespace {

// Every task any job can send to a worker process is registered here, before
// anything else runs: worker processes are re-executions of this binary.
void register_all_tasks() {
  scalekit::jobs::mandelbrot::register_tasks();
  scalekit::jobs::primes::register_tasks();
  scalekit::jobs::burn::register_tasks();
  scalekit::jobs::numbers::register_tasks();
  scalekit::jobs::factorial::register_tasks();
  scalekit::jobs::sort_service::register_tasks();
  scalekit::jobs::search::register_tasks();
  // Celery tasks (served by `scalekit worker`), also core tasks run by worker processes.
  scalekit::dist::celery::register_builtin_tasks();
  scalekit::jobs::mandelbrot::register_celery_tasks();
}

}  // namespace

int main(int argc, char** argv) {
  register_all_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error to report, not a silent death
  spdlog::set_default_logger(spdlog::stderr_color_mt("scalekit"));
  spdlog::set_pattern("scalekit: %^%l%$: %v");

  using namespace scalekit::cli;
  CLI::App app{"scalekit: the scalable programs of the seed chapters, built for real and measured.\n"
               "Results go to stdout, logs and progress to stderr. Exit status: 0 ok, 1 failed job, 2 bad usage.",
               "scalekit"};
  app.set_version_flag("--version", "scalekit " SCALEKIT_VERSION);
  app.require_subcommand(1);
  app.add_flag("--json", globals().json, "print a machine-readable summary on stdout");
  app.add_flag("-q,--quiet", globals().quiet, "no progress or summary on stderr");
  app.add_flag_callback("-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); }, "debug logging on stderr");
  app.fallthrough();  // global flags work after the subcommand too

  add_mandelbrot_command(app);
  add_primes_command(app);
  add_burn_command(app);
  add_numbers_command(app);
  add_factorial_command(app);
  add_coop_command(app);
  add_sleepers_command(app);
  add_find_command(app);
  add_sort_service_command(app);
  add_dns_command(app);
  add_fetch_command(app);
  add_search_command(app);
  add_worker_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "scalekit: %s (see --help)\n", e.what());
    return exit_usage;
  }
  return globals().exit_code;
}
