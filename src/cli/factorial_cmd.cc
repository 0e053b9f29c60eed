// scalekit factorial: the seed's futures example, printed as each completes.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "common.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/factorial/factorial.h"

namespace scalekit::cli {

namespace {

namespace fa = jobs::factorial;

struct factorial_options {
  std::vector<std::uint64_t> range;  // FROM TO
  executor_flags exec;
};

int run(const factorial_options& o) {
  const std::uint64_t from = o.range.size() > 0 ? o.range[0] : 10, to = o.range.size() > 1 ? o.range[1] : 20;
  if (o.range.size() == 1) throw usage_error("give both FROM and TO, or neither");
  if (from > to) throw usage_error(fmt::format("FROM ({}) is larger than TO ({})", from, to));
  if (to > fa::max_n) throw usage_error(fmt::format("TO ({}) is larger than {}", to, fa::max_n));
  if (to - from >= 100'000) throw usage_error("at most 100000 factorials at a time");
  auto ex = o.exec.make();
  std::vector<core::bytes> payloads;
  for (std::uint64_t n = from; n <= to; ++n) payloads.push_back(core::wire_writer().put(n).take());
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t failed = 0, digits = 0;
  auto stream = ex->as_completed(fa::factorial_task, std::move(payloads));
  while (auto c = stream.next()) {
    const std::uint64_t n = from + c->index;
    if (!c->value.ok()) {
      print_error("factorial", fmt::format("{}!: {}", n, c->value.error().message()));
      ++failed;
      continue;
    }
    digits += c->value.value().size();
    std::printf("Factorial of %llu is %s\n", static_cast<unsigned long long>(n), c->value.value().c_str());
  }
  std::fflush(stdout);
  ex->close();
  print_summary("factorial", fmt::format("{}! .. {}!, {} digits, {} failed", from, to, digits, failed),
                std::chrono::steady_clock::now() - t0, static_cast<double>(to - from + 1), "factorials",
                fmt::format("{} -j {}, {}", o.exec.executor, ex->concurrency(), ex->get_stats().latency_summary()));
  return failed > 0 ? exit_failed : exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<factorial_options>();
  auto* cmd = &command;
  cmd->add_option("range", o->range, "FROM TO")->expected(0, 2);
  o->exec.add_to(*cmd, "serial,threads,processes,openmp", "threads");
  cmd->callback([o] { run_job("factorial", [&] { return run(*o); }); });
}

const command_registration registered{{"factorial", add_command, jobs::factorial::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
