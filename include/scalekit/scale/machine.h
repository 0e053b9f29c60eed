#pragma once
// The machine a sweep ran on, and whether something else was using its CPU:
// measurements are only comparable with the machine beside them, and the
// machines scalekit runs on are shared.
//
// Linux only (/proc). Functions are thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace scalekit::scale {

struct machine_info {
  std::string cpu_model;     ///< /proc/cpuinfo's "model name" ("" when absent)
  unsigned cores = 1;        ///< online logical CPUs
  std::string kernel;        ///< uname: "Linux 6.1.0-13-amd64"
  std::string build;         ///< "Release, GCC 12.2.0"
  std::string git_revision;  ///< of the source when it was built; "" when it was not a git checkout
};
machine_info describe_machine();

/// All CPUs' time from /proc/stat's first line, in clock ticks.
struct cpu_times {
  std::uint64_t busy = 0;   ///< user + nice + system + irq + softirq + steal
  std::uint64_t total = 0;  ///< busy + idle + iowait
};
std::optional<cpu_times> read_cpu_times();
/// Clock ticks per second (sysconf(_SC_CLK_TCK)).
double ticks_per_second();

/// How busy the machine is, sampled before a sweep while the sweep does
/// nothing: busy_cores is the CPUs' busy time over `window` in cores (0 on an
/// idle machine, 2 when two cores are fully used), load1 /proc/loadavg's
/// one-minute load (which counts this program's own recent work too).
struct load_sample {
  double busy_cores = 0;
  double load1 = 0;
};
load_sample sample_load(std::chrono::milliseconds window);

/// The most busy_cores a machine may show and still count as idle.
inline constexpr double idle_busy_cores = 0.25;

}  // namespace scalekit::scale
