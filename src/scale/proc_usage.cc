// A process tree's CPU and context switches from /proc (proc_usage.h).

#include "proc_usage.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace scalekit::scale {

namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::uint64_t number(const std::string& s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::uint64_t status_value(const std::string& status, const std::string& key) {
  const auto at = status.find("\n" + key + ":");  // "\n": not inside "nonvoluntary_..."
  if (at == std::string::npos) return 0;
  std::istringstream in(status.substr(at + key.size() + 2));
  std::uint64_t v = 0;
  in >> v;
  return v;
}

}  // namespace

std::vector<std::string> stat_fields_of(pid_t pid) {
  const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::vector<std::string> out;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream in(text.substr(close + 1));
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

tree_usage usage_of_tree(pid_t root) {
  // Every process's parent, then the tree under root.
  std::multimap<pid_t, pid_t> children;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    const auto f = stat_fields_of(static_cast<pid_t>(number(name)));
    if (f.size() > 1) children.emplace(static_cast<pid_t>(number(f[1])), static_cast<pid_t>(number(name)));
  }
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  tree_usage u;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t pid = todo.back();
    todo.pop_back();
    const std::string dir = "/proc/" + std::to_string(pid);
    const auto f = stat_fields_of(pid);
    if (f.size() < 13) continue;  // gone
    ++u.processes;
    u.user_s += static_cast<double>(number(f[11])) / tick;  // utime: field 14
    u.sys_s += static_cast<double>(number(f[12])) / tick;   // stime: field 15
    for (const auto& t : fs::directory_iterator(dir + "/task", ec)) {
      const std::string status = read_file(t.path().string() + "/status");
      u.voluntary_switches += status_value(status, "voluntary_ctxt_switches");
      u.involuntary_switches += status_value(status, "nonvoluntary_ctxt_switches");
      std::istringstream sched(read_file(t.path().string() + "/schedstat"));
      double ns = 0;
      if (sched >> ns) u.cpu_s += ns / 1e9;
    }
    const auto [first, last] = children.equal_range(pid);
    for (auto it = first; it != last; ++it) todo.push_back(it->second);
  }
  return u;
}

}  // namespace scalekit::scale
