// scalekit coop: flags -> coop::options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/jobs/coop/coop.h"

namespace scalekit::cli {

namespace {

namespace co = jobs::coop;

void add_command(CLI::App& command) {
  auto o = std::make_shared<co::options>();
  auto* cmd = &command;
  cmd->add_option("limit", o->limit, "numbers 1..LIMIT")
      ->check(CLI::Range(std::uint64_t{1}, co::max_limit))
      ->capture_default_str();
  cmd->add_flag("--trace", o->trace, "print every task switch and result, as the seed does");
  cmd->callback([o] { run_job("coop", [o](core::observer& obs) { return co::run(*o, obs); }); });
}

const command_registration registered{{"coop", add_command}};

}  // namespace

}  // namespace scalekit::cli
