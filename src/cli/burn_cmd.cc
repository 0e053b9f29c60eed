// scalekit burn: flags -> burn::options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/burn/burn.h"

namespace scalekit::cli {

namespace {

namespace bu = jobs::burn;

struct burn_flags {
  bu::options job;
  executor_flags exec;
};

void add_command(CLI::App& command) {
  auto f = std::make_shared<burn_flags>();
  auto* cmd = &command;
  cmd->add_option("--iterations", f->job.iterations, "steps of each worker's loop")
      ->check(CLI::Range(std::uint64_t{1}, bu::max_iterations))
      ->capture_default_str();
  f->exec.add_to(*cmd, "serial,threads,processes,openmp", "threads");
  cmd->callback([f] {
    run_job("burn", [f](core::observer& obs) {
      auto ex = f->exec.make();
      return bu::run(f->job, *ex, obs);
    });
  });
}

const command_registration registered{{"burn", add_command, bu::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
