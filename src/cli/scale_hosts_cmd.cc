// scalekit scale hosts: flags -> scale::hosts_options -> the emulated-hosts
// experiment (scalekit/scale/hosts.h).

#include <CLI/CLI.hpp>

#include "runner.h"
#include "scalekit/scale/hosts.h"

namespace scalekit::cli {

void add_scale_hosts(CLI::App& scale) {
  auto o = std::make_shared<scale::hosts_options>();
  auto* cmd = scale.add_subcommand(
      "hosts",
      "Scale out on emulated hosts (root): network namespaces with CPU quotas on a bridge, a Redis broker, one "
      "worker per host; the distributed Mandelbrot and a trivial-task workload on 1..N hosts, the USL fitted on "
      "the first hosts and its predictions checked, a host's link cut mid-run");
  cmd->add_option("--hosts", o->max_hosts, "hosts measured: 1..N")->capture_default_str();
  cmd->add_option("--fit-hosts", o->fit_hosts, "fit the USL on 1..K hosts, predict the rest")->capture_default_str();
  cmd->add_option("--host-cpu", o->host_cpu, "CPU quota of each host, in CPUs")->capture_default_str();
  cmd->add_option("--broker-cpu", o->broker_cpu, "CPU quota of the broker's namespace")->capture_default_str();
  cmd->add_option("--client-cpu", o->client_cpu, "CPU quota of the client's namespace")->capture_default_str();
  cmd->add_option("--memory", o->memory_mib, "memory limit of each namespace, MiB")->capture_default_str();
  cmd->add_option("--tolerance", o->tolerance, "largest relative prediction error that passes (0.25: ±25%)")
      ->capture_default_str();
  cmd->add_option("-W,--width", o->width, "Mandelbrot image width")->capture_default_str();
  cmd->add_option("-H,--height", o->height, "Mandelbrot image height (one task per row)")->capture_default_str();
  cmd->add_option("-n,--niter", o->iterations, "Mandelbrot iterations per pixel")->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "runs of each host count (the median counts)")->capture_default_str();
  cmd->add_option("--tiny-tasks", o->tiny_tasks, "tasks of the trivial-task workload")->capture_default_str();
  cmd->add_option("--visibility-timeout", o->visibility_s, "the workers': seconds before a lost host's tasks return")
      ->capture_default_str();
  cmd->add_flag("!--no-partition", o->partition, "skip the partition experiment");
  cmd->add_option("--report", o->report_dir, "write DIR/results.json");
  cmd->callback([o] { run_job("scale hosts", [o](core::observer& obs) { return scale::run_hosts(*o, obs); }); });
}

}  // namespace scalekit::cli
