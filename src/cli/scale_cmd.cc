// scalekit scale: a group of jobs. `scale WORKLOAD` (one subcommand per
// workload: flags -> scale::sweep_options -> the sweep) and `scale fit FILE`
// (the file -> scale::fit_options -> the fit) and `scale tables` (the
// chapters' timing tables -> scale::tables_options -> the runs).

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/scale/fit.h"
#include "scalekit/scale/sweep.h"
#include "scalekit/scale/tables.h"

namespace scalekit::cli {

void add_scale_hosts(CLI::App& scale);     // scale_hosts_cmd.cc
void add_service_sweeps(CLI::App& scale);  // scale_service_cmd.cc

namespace {

void add_sweep(CLI::App& scale, const scale::sweep_workload_info& w) {
  auto o = std::make_shared<scale::sweep_options>();
  o->workload = w.name;
  auto* cmd = scale.add_subcommand(w.name, w.help);
  cmd->add_option("--executors", o->executors,
                  "executors to sweep, comma-separated, of " + w.executors +
                      " (default: all but distributed, which starts a redis-server and N workers per run)")
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

void add_tables(CLI::App& scale) {
  auto o = std::make_shared<scale::tables_options>();
  auto* cmd = scale.add_subcommand(
      "tables",
      "The chapters' timing tables (sorting number files three ways, primes on threads vs processes, "
      "Mandelbrot serial vs PyMP vs Celery, MuchCPU, RLE with nested pools) with scalekit's figures beside "
      "the chapters', same rows and columns");
  auto* quick = cmd->add_flag_callback(
      "--quick", [o] { o->size = scale::table_size::quick; }, "CI-sized runs: seconds in all");
  cmd->add_flag_callback(
         "--full", [o] { o->size = scale::table_size::full; },
         "the chapters' sizes (a million number files, 7200x5600 images: hours)")
      ->excludes(quick);
  cmd->add_option("--only", o->only, "these tables only, comma-separated: " + scale::chapter_table_ids())
      ->delimiter(',');
  cmd->add_flag("--with-seed", o->with_seed,
                "also run the seed's Python programs (where the seed has them), each stopped after --seed-timeout");
  cmd->add_option("--seed-timeout", o->seed_timeout_s, "seconds a seed program may run")->capture_default_str();
  cmd->add_option("--seed-dir", o->seed_dir, "the seed's programs (default: the source tree's tests/fixtures/seed)");
  cmd->add_option("--python", o->python, "the Python that runs them")->capture_default_str();
  cmd->add_option("--report", o->report_dir,
                  "write DIR/tables.json, tables.txt and tables.html (each whole or absent)");
  cmd->callback([o] { run_job("scale tables", [o](core::observer& obs) { return scale::run_tables(*o, obs); }); });
}

void add_command(CLI::App& command) {
  auto* scale = &command;
  scale->require_subcommand(1);
  for (const auto& w : scale::sweep_workloads()) add_sweep(*scale, w);
  add_service_sweeps(*scale);
  add_scale_hosts(*scale);
  add_tables(*scale);

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
