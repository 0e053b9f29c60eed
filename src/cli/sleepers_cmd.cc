// scalekit sleepers: flags -> sleepers::options -> the job.

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/jobs/sleepers/sleepers.h"

namespace scalekit::cli {

namespace {

namespace sl = jobs::sleepers;

struct sleepers_flags {
  std::string demo = "both";
  sl::options job;
};

void add_command(CLI::App& command) {
  auto f = std::make_shared<sleepers_flags>();
  auto* cmd = &command;
  sl::five_options& five = f->job.five;
  cmd->add_option("--demo", f->demo, "five, tasks or both")
      ->check(CLI::IsMember({"five", "tasks", "both"}))
      ->capture_default_str();
  cmd->add_option("--tasks", five.tasks, "sleeping tasks")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--max-delay", five.max_delay_s, "each sleeps random() * this many seconds")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--main-sleep", five.main_sleep_s, "the main task's own sleep, seconds")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--seed", five.seed, "random seed (0: random)");
  cmd->add_option("--step", f->job.step_s, "prime_filter/square_mapper sleep after each item, seconds (the seed: 1.0)")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  cmd->add_option("--from", f->job.from, "first number")->capture_default_str();
  cmd->add_option("--to", f->job.to, "last number")
      ->check(CLI::Range(std::uint64_t{0}, sl::max_to))
      ->capture_default_str();
  cmd->callback([f] {
    run_job("sleepers", [f](core::observer& obs) {
      f->job.which = *sl::parse_demo(f->demo);
      return sl::run(f->job, obs);
    });
  });
}

const command_registration registered{{"sleepers", add_command}};

}  // namespace

}  // namespace scalekit::cli
