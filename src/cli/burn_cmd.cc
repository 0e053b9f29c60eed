// scalekit burn: the seed's MuchCPU, one busy loop per worker.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/burn/burn.h"

namespace scalekit::cli {

namespace {

struct burn_options {
  std::uint64_t iterations = 200'000'000;
  executor_flags exec;
};

int run(const burn_options& o) {
  auto ex = o.exec.make();
  const std::size_t workers = ex->concurrency();
  std::vector<core::bytes> payloads(workers, core::wire_writer().put(o.iterations).take());
  ex->wait_ready();  // one loop per worker: every worker must be there to take one
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json reports = nlohmann::json::array();
  std::uint64_t failed = 0;
  auto stream = ex->as_completed(jobs::burn::burn_task, std::move(payloads));
  while (auto c = stream.next()) {
    if (!c->value.ok()) {
      print_error("burn", c->value.error().message());
      ++failed;
      continue;
    }
    const auto r = jobs::burn::decode_report(c->value.value());
    if (!globals().json) std::printf("process %ld thread %ld: %.3f s\n", r.pid, r.tid, r.seconds);
    reports.push_back({{"pid", r.pid}, {"tid", r.tid}, {"seconds", r.seconds}});
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (globals().json) {
    std::printf("%s\n", nlohmann::json{{"job", "burn"},
                                       {"executor", o.exec.executor},
                                       {"jobs", workers},
                                       {"iterations", o.iterations},
                                       {"elapsed_s", secs},
                                       {"workers", reports}}
                            .dump()
                            .c_str());
  } else {
    std::printf("work took %.3f seconds\n", secs);
  }
  ex->close();
  print_summary("burn", fmt::format("{} loops of {} iterations", workers, o.iterations),
                std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(secs)),
                static_cast<double>(workers) * static_cast<double>(o.iterations), "iterations",
                fmt::format("{} -j {}", o.exec.executor, workers));
  return failed > 0 ? exit_failed : exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<burn_options>();
  auto* cmd = &command;
  cmd->add_option("--iterations", o->iterations, "steps of each worker's loop")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 50))
      ->capture_default_str();
  o->exec.add_to(*cmd, "serial,threads,processes,openmp", "threads");
  cmd->callback([o] { run_job("burn", [&] { return run(*o); }); });
}

const command_registration registered{{"burn", add_command, jobs::burn::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
