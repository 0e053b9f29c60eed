// The machine a sweep runs on (machine.h).

#include "scalekit/scale/machine.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "git_revision.h"  // generated at every build: SCALEKIT_GIT_REVISION

#ifndef SCALEKIT_BUILD_TYPE
#define SCALEKIT_BUILD_TYPE ""
#endif

namespace scalekit::scale {

machine_info describe_machine() {
  machine_info m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos) m.cpu_model = line.substr(line.find_first_not_of(" \t", colon + 1));
    break;
  }
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  m.cores = online > 0 ? static_cast<unsigned>(online) : 1;
  struct utsname u {};
  if (::uname(&u) == 0) m.kernel = fmt::format("{} {}", u.sysname, u.release);
  const std::string type = SCALEKIT_BUILD_TYPE;
#if defined(__clang__)
  const std::string compiler = fmt::format("Clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  const std::string compiler = fmt::format("GCC {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  const std::string compiler = "unknown compiler";
#endif
  m.build = (type.empty() ? std::string("no build type") : type) + ", " + compiler;
  m.git_revision = SCALEKIT_GIT_REVISION;
  return m;
}

std::optional<cpu_times> read_cpu_times() {
  std::ifstream stat("/proc/stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind("cpu ", 0) != 0) return std::nullopt;
  std::istringstream in(line.substr(4));
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  if (!in && !in.eof()) return std::nullopt;
  cpu_times t;
  t.busy = user + nice + system + irq + softirq + steal;
  t.total = t.busy + idle + iowait;
  return t;
}

double ticks_per_second() {
  const long t = ::sysconf(_SC_CLK_TCK);
  return t > 0 ? static_cast<double>(t) : 100.0;
}

load_sample sample_load(std::chrono::milliseconds window) {
  load_sample s;
  std::ifstream("/proc/loadavg") >> s.load1;
  const auto a = read_cpu_times();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  const auto b = read_cpu_times();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (a && b && seconds > 0) s.busy_cores = static_cast<double>(b->busy - a->busy) / ticks_per_second() / seconds;
  return s;
}

}  // namespace scalekit::scale
