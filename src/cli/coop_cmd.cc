// scalekit coop: the seed's cooperative generator scheduler.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "common.h"
#include "scalekit/core/cooperative.h"
#include "scalekit/jobs/coop/coop.h"

namespace scalekit::cli {

namespace {

struct coop_options {
  std::uint64_t limit = 10000;
  bool trace = false;
};

int run(const coop_options& o) {
  namespace co = jobs::coop;
  const auto t0 = std::chrono::steady_clock::now();
  core::round_robin<std::uint64_t> scheduler;
  scheduler.add("square_mapper", co::square_mapper(co::number_generator(o.limit)));
  scheduler.add("prime_filter", co::prime_filter(co::number_generator(o.limit)));
  std::string trace;
  auto on_switch = [&](const std::string& name) {
    fmt::format_to(std::back_inserter(trace), "Switching to task {}\n", name);
  };
  auto on_result = [&](const std::string&, const std::uint64_t& v) {
    fmt::format_to(std::back_inserter(trace), "Result=> {}\n", v);
    if (trace.size() > (1 << 16)) {
      std::fwrite(trace.data(), 1, trace.size(), stdout);
      trace.clear();
    }
  };
  auto results = o.trace ? scheduler.run(o.limit, on_switch, on_result) : scheduler.run(o.limit);
  std::fwrite(trace.data(), 1, trace.size(), stdout);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const auto& primes = results["prime_filter"];
  if (primes.empty()) {
    std::printf("Last prime=> none\n");
  } else {
    std::printf("Last prime=> %llu\n", static_cast<unsigned long long>(primes.back()));
  }
  std::printf("Time taken=> %.6f\n", std::chrono::duration<double>(elapsed).count());
  print_summary("coop", fmt::format("{} switches between 2 generator tasks", scheduler.get_switches()), elapsed,
                static_cast<double>(scheduler.get_switches()), "switches", "");
  return exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<coop_options>();
  auto* cmd = &command;
  cmd->add_option("limit", o->limit, "numbers 1..LIMIT")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4294967295}))
      ->capture_default_str();
  cmd->add_flag("--trace", o->trace, "print every task switch and result, as the seed does");
  cmd->callback([o] { run_job("coop", [&] { return run(*o); }); });
}

const command_registration registered{{"coop", add_command}};

}  // namespace

}  // namespace scalekit::cli
