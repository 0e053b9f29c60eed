// scalekit scale fit FILE: the file -> scale::fit_options -> the job.
// `scale` is a group: sweeps (`scale WORKLOAD`) and the chapters' tables
// (`scale tables`) will be subcommands beside `fit`.

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/scale/fit.h"

namespace scalekit::cli {

namespace {

void add_command(CLI::App& command) {
  auto* scale = &command;
  scale->require_subcommand(1);
  scale->footer("Subcommands to come: scale WORKLOAD (sweeps over executors and workers), scale tables.");

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

const command_registration registered{{"scale", add_command}};

}  // namespace

}  // namespace scalekit::cli
