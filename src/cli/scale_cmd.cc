// scalekit scale: a group of jobs. `scale WORKLOAD` (one subcommand per
// workload: flags -> scale::sweep_options -> the sweep) and `scale fit FILE`
// (the file -> scale::fit_options -> the fit). `scale tables` will sit beside them.

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/scale/fit.h"
#include "scalekit/scale/sweep.h"

namespace scalekit::cli {

namespace {

void add_sweep(CLI::App& scale, const scale::sweep_workload_info& w) {
  auto o = std::make_shared<scale::sweep_options>();
  o->workload = w.name;
  auto* cmd = scale.add_subcommand(w.name, w.help);
  cmd->add_option("--executors", o->executors,
                  "executors to sweep, comma-separated (default: every one the job runs on: " + w.executors + ")")
      ->delimiter(',');
  cmd->add_option("--workers", o->workers,
                  "worker counts, comma-separated (default: 1 to the number of cores; more is oversubscribed)")
      ->delimiter(',');
  cmd->add_option("--sizes", o->sizes, "sizes of the work, comma-separated (default: the workload's)")->delimiter(',');
  cmd->add_option("--repeat", o->repeat, "runs of each point, in shuffled order")->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the run order (default: from the clock; reported)");
  cmd->add_option("--report", o->report_dir,
                  "write DIR/results.json, results.csv and report.html (each whole or absent)");
  cmd->add_flag("--require-idle", o->require_idle,
                "refuse to measure when other programs are using the CPU (default: measure and warn)");
  cmd->callback([o] { run_job("scale", [o](core::observer& obs) { return scale::run_sweep(*o, obs); }); });
}

void add_command(CLI::App& command) {
  auto* scale = &command;
  scale->require_subcommand(1);
  scale->footer("Subcommand to come: scale tables (the chapters' timing tables).");

  for (const auto& w : scale::sweep_workloads()) add_sweep(*scale, w);

  auto o = std::make_shared<scale::fit_options>();
  auto* fit = scale->add_subcommand(
      "fit",
      "Fit the Universal Scalability Law and Amdahl's law to measured throughput: parameters with 95% "
      "confidence intervals, R², the peak concurrency, the Amdahl ceiling, Karp-Flatt fractions");
  fit->add_option("file", o->file,
                  "CSV with a header naming concurrency (n, workers, concurrency, load, users, threads, processors, "
                  "clients) and throughput (x, throughput, "
                  "rate) columns, '#' comments; or a JSON array of {\"concurrency\": N, \"throughput\": X}; "
                  "'-': stdin")
      ->required();
  fit->callback([o] { run_job("scale fit", [o](core::observer& obs) { return scale::run_fit(*o, obs); }); });
}

const command_registration registered{{"scale", add_command, scale::register_sweep_tasks}};

}  // namespace

}  // namespace scalekit::cli
