// The emulated hosts' cgroups (hosts_testbed.h): cgroup v1 (cpu.cfs_quota_us
// over cpu.cfs_period_us, memory.limit_in_bytes, cpuacct.usage) or v2
// (cpu.max, memory.max, cpu.stat's usage_usec), whichever this machine has.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <thread>

#include "hosts_testbed.h"

namespace scalekit::scale::hosts_detail {

namespace fs = std::filesystem;

namespace {

const std::string base = "/sys/fs/cgroup";
// A short CFS period (10 ms, Linux's default is 100 ms) spreads a host's
// quota finely: with 100 ms a 0.2-CPU host runs 20 ms at full speed and then
// stands still for 80, and a job shorter than a period does not feel the
// quota at all. Quotas under 1 ms (the kernel's least) take the 100 ms period.
long period_for(double cpu) { return cpu >= 0.1 ? 10000 : 100000; }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  if (!out) return status::io_error(fmt::format("cannot write '{}' to {}", text, path));
  return {};
}

// v1: the hierarchies of cpu, cpuacct and memory (cpu and cpuacct are often one).
std::vector<std::string> v1_hierarchies() {
  std::vector<std::string> dirs;
  for (const char* c : {"cpu", "cpuacct", "memory"}) {
    std::error_code ec;
    const auto p = fs::canonical(base + "/" + c, ec);
    if (ec) continue;
    if (std::find(dirs.begin(), dirs.end(), p.string()) == dirs.end()) dirs.push_back(p.string());
  }
  return dirs;
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

}  // namespace

result<std::string> cgroup_version() {
  const auto controllers = slurp(base + "/cgroup.controllers");
  if (has_word(controllers, "cpu") && has_word(controllers, "memory")) return std::string("v2");
  if (fs::exists(base + "/cpu/cpu.cfs_quota_us") && fs::exists(base + "/memory/memory.limit_in_bytes"))
    return std::string("v1");
  return status::io_error(
      "no cgroup with the cpu and memory controllers: neither v2's /sys/fs/cgroup/cgroup.controllers nor v1's "
      "/sys/fs/cgroup/cpu and /sys/fs/cgroup/memory");
}

std::vector<std::string> cgroup_dirs(const std::string& kind, const std::string& root, const std::string& name) {
  const std::string rel = root + (name.empty() ? "" : "/" + name);
  if (kind == "v2") return {base + "/" + rel};
  std::vector<std::string> dirs;
  for (const auto& h : v1_hierarchies()) dirs.push_back(h + "/" + rel);
  return dirs;
}

status make_cgroup(const std::string& kind, const std::string& root, const std::string& name, double cpu,
                   std::uint64_t memory_bytes) {
  const long period_us = period_for(cpu);
  const long quota = std::max(1000L, std::lround(cpu * static_cast<double>(period_us)));
  if (kind == "v2") {
    const auto& top = base + "/cgroup.subtree_control";
    if (!has_word(slurp(top), "cpu") || !has_word(slurp(top), "memory"))
      if (auto st = write_file(top, "+cpu +memory"); !st.ok()) return st;
    const auto r = base + "/" + root;
    if (::mkdir(r.c_str(), 0755) != 0 && errno != EEXIST)
      return status::io_error(fmt::format("cannot make {}: {}", r, std::strerror(errno)));
    if (auto st = write_file(r + "/cgroup.subtree_control", "+cpu +memory"); !st.ok()) return st;
    const auto d = r + "/" + name;
    if (::mkdir(d.c_str(), 0755) != 0)
      return status::io_error(fmt::format("cannot make {}: {}", d, std::strerror(errno)));
    if (auto st = write_file(d + "/cpu.max", fmt::format("{} {}", quota, period_us)); !st.ok()) return st;
    return write_file(d + "/memory.max", std::to_string(memory_bytes));
  }
  for (const auto& dir : cgroup_dirs(kind, root, "")) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return status::io_error(fmt::format("cannot make {}: {}", dir, std::strerror(errno)));
    const auto d = dir + "/" + name;
    if (::mkdir(d.c_str(), 0755) != 0)
      return status::io_error(fmt::format("cannot make {}: {}", d, std::strerror(errno)));
    if (fs::exists(d + "/cpu.cfs_quota_us")) {
      if (auto st = write_file(d + "/cpu.cfs_period_us", std::to_string(period_us)); !st.ok()) return st;
      if (auto st = write_file(d + "/cpu.cfs_quota_us", std::to_string(quota)); !st.ok()) return st;
    }
    if (fs::exists(d + "/memory.limit_in_bytes"))
      if (auto st = write_file(d + "/memory.limit_in_bytes", std::to_string(memory_bytes)); !st.ok()) return st;
  }
  return {};
}

double cgroup_cpu_seconds(const std::string& kind, const std::string& root, const std::string& name) {
  for (const auto& d : cgroup_dirs(kind, root, name)) {
    if (kind == "v2") {
      std::istringstream in(slurp(d + "/cpu.stat"));
      std::string key;
      double value = 0;
      while (in >> key >> value)
        if (key == "usage_usec") return value / 1e6;
    } else if (fs::exists(d + "/cpuacct.usage")) {
      return std::strtod(slurp(d + "/cpuacct.usage").c_str(), nullptr) / 1e9;
    }
  }
  return std::nan("");
}

void kill_cgroup(const std::string& kind, const std::string& root, const std::string& name) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    bool any = false;
    for (const auto& d : cgroup_dirs(kind, root, name)) {
      std::istringstream in(slurp(d + "/cgroup.procs"));
      for (long pid; in >> pid;) {
        any = true;
        ::kill(static_cast<pid_t>(pid), SIGKILL);
      }
    }
    if (!any || std::chrono::steady_clock::now() >= until) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

status remove_cgroups(const std::string& kind, const std::string& root, const std::vector<std::string>& names) {
  status first;
  const auto remove = [&](const std::string& dir) {
    if (!fs::exists(dir)) return;
    // A cgroup whose last process just died can be busy for a moment.
    for (int i = 0; i < 100; ++i) {
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (first.ok()) first = status::io_error(fmt::format("cannot remove {}: {}", dir, std::strerror(errno)));
  };
  for (const auto& name : names)
    for (const auto& d : cgroup_dirs(kind, root, name)) remove(d);
  for (const auto& d : cgroup_dirs(kind, root, "")) remove(d);
  return first;
}

}  // namespace scalekit::scale::hosts_detail
