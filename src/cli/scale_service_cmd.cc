// scalekit scale SERVICE: flags -> scale::service_sweep_options -> the
// service sweep under open-loop load (scalekit/scale/service_sweep.h).

#include <CLI/CLI.hpp>

#include "runner.h"
#include "scalekit/scale/service_sweep.h"

namespace scalekit::cli {

namespace {

void add_service_sweep(CLI::App& scale, const scale::service_workload_info& w) {
  auto o = std::make_shared<scale::service_sweep_options>();
  o->workload = w.name;
  auto* cmd = scale.add_subcommand(w.name, w.help);
  cmd->footer(
      "Each N: the server started on a free loopback port, then open-loop load (requests on a schedule, "
      "whatever the answers; latency from each request's intended send time) offered in steps of --step "
      "seconds, from --start-rate up by --rate-factor each step, until a step is saturated (good answers "
      "below 90% of the offered rate, or more than 1% errors and timeouts) or --max-rate. The saturation "
      "throughput X(N) is the largest rate of good answers of the steps; the USL and Amdahl's law are fitted "
      "to it as for the jobs. The generator's own CPU and schedule lag are reported per step: a lag p99 over "
      "1 ms or more than 90% of a core marks a step generator-bound.");
  cmd->add_option("--workers", o->workers,
                  "values of N, comma-separated (default: 1,2,3,4,5,6: six N, the fewest the models are fitted from)")
      ->delimiter(',');
  cmd->add_option("--sizes", o->sizes, "request sizes, comma-separated (default: the workload's)")->delimiter(',');
  cmd->add_option("--repeat", o->repeat, "runs of each N (a whole rate ramp each), in shuffled order")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the run order and the arrivals (default: from the clock; reported)");
  cmd->add_option("--arrival", o->arrival, "arrival process: poisson or constant")->capture_default_str();
  cmd->add_option("--step", o->step_s, "seconds each offered rate is held")->capture_default_str();
  cmd->add_option("--start-rate", o->start_rate, "requests/s of the first step (default: the workload's)");
  cmd->add_option("--rate-factor", o->rate_factor, "each step offers this times the last")->capture_default_str();
  cmd->add_option("--max-rate", o->max_rate, "no step offers more requests/s")->capture_default_str();
  cmd->add_option("--timeout", o->timeout_s, "seconds after its intended send time a request is a timeout")
      ->capture_default_str();
  cmd->add_option("--report", o->report_dir,
                  "write DIR/results.json, results.csv (one row per load step), report.html and charts/ (each "
                  "whole or absent)");
  cmd->add_flag("--require-idle", o->require_idle,
                "refuse to measure when other programs are using the CPU (default: measure and warn)");
  cmd->callback([o] { run_job("scale", [o](core::observer& obs) { return scale::run_service_sweep(*o, obs); }); });
}

}  // namespace

void add_service_sweeps(CLI::App& scale) {
  for (const auto& w : scale::service_workloads()) add_service_sweep(scale, w);
}

}  // namespace scalekit::cli
