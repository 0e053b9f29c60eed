// scalekit sleepers: the seed's asyncio examples on the core event loop.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "common.h"
#include "scalekit/jobs/sleepers/sleepers.h"

namespace scalekit::cli {

namespace {

namespace sl = jobs::sleepers;

struct sleepers_options {
  std::string demo = "both";
  sl::five_options five;
  double step_s = 0.1;
  std::uint64_t from = 10, to = 50;
};

int run(const sleepers_options& o) {
  if (o.from > o.to) throw usage_error("--from must not exceed --to");
  const auto t0 = std::chrono::steady_clock::now();
  auto print = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);  // lines appear as they happen, even through a pipe
  };
  if (o.demo == "five" || o.demo == "both") {
    core::run_until_complete(sl::five_sleepers(o.five, print));
    print(o.five.tasks == 5 ? "Done five tasks" : fmt::format("Done {} tasks", o.five.tasks));
  }
  if (o.demo == "tasks" || o.demo == "both") {
    const auto step = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(o.step_s));
    core::run_until_complete(sl::primes_and_squares(o.from, o.to, step, print));
  }
  print_summary("sleepers", "the event-loop demos (" + o.demo + ")", std::chrono::steady_clock::now() - t0, 1, "runs",
                "");
  return exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<sleepers_options>();
  auto* cmd = &command;
  cmd->add_option("--demo", o->demo, "five, tasks or both")
      ->check(CLI::IsMember({"five", "tasks", "both"}))
      ->capture_default_str();
  cmd->add_option("--tasks", o->five.tasks, "sleeping tasks")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--max-delay", o->five.max_delay_s, "each sleeps random() * this many seconds")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--main-sleep", o->five.main_sleep_s, "the main task's own sleep, seconds")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--seed", o->five.seed, "random seed (0: random)");
  cmd->add_option("--step", o->step_s, "prime_filter/square_mapper sleep after each item, seconds (the seed: 1.0)")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  cmd->add_option("--from", o->from, "first number")->capture_default_str();
  cmd->add_option("--to", o->to, "last number")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1000000}))
      ->capture_default_str();
  cmd->callback([o] { run_job("sleepers", [&] { return run(*o); }); });
}

const command_registration registered{{"sleepers", add_command}};

}  // namespace

}  // namespace scalekit::cli
