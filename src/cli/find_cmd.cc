// scalekit find: flags -> find::options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/jobs/find/find.h"

namespace scalekit::cli {

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<jobs::find::options>();
  auto* cmd = &command;
  cmd->add_option("query", o->query, "text the full path must contain")->required();
  cmd->add_option("root", o->root, "directory to walk")->capture_default_str();
  cmd->add_option("-j,--jobs", o->threads, "threads (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  cmd->callback([o] { run_job("find", [o](core::observer& obs) { return jobs::find::run(*o, obs); }); });
}

const command_registration registered{{"find", add_command}};

}  // namespace

}  // namespace scalekit::cli
