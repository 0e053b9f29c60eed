// scalekit: one command, a subcommand per job. This file only wires the
// subcommands together; each lives in its own <job>_cmd.cc. The jobs with
// heavy libraries are handed to scalekit-heavy (see heavy_commands in common.h).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "common.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/jobs/burn/burn.h"
#include "scalekit/jobs/factorial/factorial.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/numbers/numbers.h"
#include "scalekit/jobs/primes/primes.h"
#include "scalekit/jobs/search/search.h"
#include "scalekit/jobs/sort_service/sort_service.h"
#include "scalekit/taskqueue/builtin_tasks.h"

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
  scalekit::taskqueue::celery::register_builtin_tasks();
  scalekit::jobs::mandelbrot::register_celery_tasks();
}

// When the subcommand (the first argument that is not a global flag) is one
// of the heavy ones, replace this process with scalekit-heavy, same arguments.
// Returns only when it is not one, or when the exec failed (the exit status).
std::optional<int> hand_over_heavy_job(int argc, char** argv) {
  int i = 1;
  while (i < argc && argv[i][0] == '-') ++i;  // the global flags take no values
  if (i == argc) return std::nullopt;
  const std::string_view command(argv[i]);
  if (std::none_of(std::begin(scalekit::cli::heavy_commands), std::end(scalekit::cli::heavy_commands),
                   [&](const auto& c) { return command == c.name; }))
    return std::nullopt;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string target = (self.parent_path() / scalekit::cli::heavy_binary).string();
  argv[0] = const_cast<char*>(target.c_str());
  ::execv(target.c_str(), argv);
  std::fprintf(stderr, "scalekit %s: cannot run '%s': %s (it is built and installed beside scalekit)\n", argv[i],
               target.c_str(), std::strerror(errno));
  return scalekit::cli::exit_failed;
}

}  // namespace

int main(int argc, char** argv) {
  register_all_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  if (auto rc = hand_over_heavy_job(argc, argv)) return *rc;
  using namespace scalekit::cli;
  start_process();
  CLI::App app;
  setup_app(app);
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
  add_search_command(app);
  add_worker_command(app);
  for (const auto& c : heavy_commands) app.add_subcommand(c.name, c.description);  // listed; run by scalekit-heavy
  return run_app(app, argc, argv);
}
