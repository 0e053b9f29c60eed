#pragma once
// Internal to `scale hosts`: the emulated hosts themselves: network
// namespaces linked to a bridge, a cgroup per namespace, and the processes
// started in them. hosts.h draws the picture.
//
// Names carry this process's pid ("sk1234-h1", cgroup "scalekit-hosts-1234"),
// so two runs at once do not meet. Everything is made inside the namespaces
// (`ip -n NS link add eth0 type veth peer name h1 netns SWITCH`): no interface
// is ever made in the host's own namespace.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::scale::hosts_detail {

/// One emulated machine: its namespace, address and cgroup.
struct node {
  std::string name;    ///< "broker", "client", "h1".."hN": also its port's name on the switch
  std::string ns;      ///< the network namespace
  std::string ip;      ///< its address on the switch's 10.87.0.0/24
  std::string cgroup;  ///< its cgroup's name under the run's directory
};

// Cgroups (hosts_cgroup.cc). `kind` is cgroup_version()'s; a node's cgroup is
// ROOT/NAME in every hierarchy used (v1: cpu, cpuacct and memory; v2: the one).

/// "v2" when /sys/fs/cgroup is the unified hierarchy with the cpu and memory
/// controllers, "v1" when those are mounted apart, or an error saying neither.
result<std::string> cgroup_version();
/// The directories of ROOT/NAME (ROOT itself when `name` is empty), one per hierarchy.
std::vector<std::string> cgroup_dirs(const std::string& kind, const std::string& root, const std::string& name);
/// Make ROOT/NAME with a CPU quota of `cpu` CPUs and a memory limit.
status make_cgroup(const std::string& kind, const std::string& root, const std::string& name, double cpu,
                   std::uint64_t memory_bytes);
/// CPU seconds used in ROOT/NAME so far; NaN when not readable.
double cgroup_cpu_seconds(const std::string& kind, const std::string& root, const std::string& name);
/// SIGKILL every process in ROOT/NAME until it is empty (at most 5 s).
void kill_cgroup(const std::string& kind, const std::string& root, const std::string& name);
/// Remove ROOT/NAME for each name, then ROOT. The first error.
status remove_cgroups(const std::string& kind, const std::string& root, const std::vector<std::string>& names);

/// The network and cgroups of one run. Not thread-safe.
class testbed {
 public:
  struct limits {
    double host_cpu = 0.2, broker_cpu = 1, client_cpu = 1;
    std::uint64_t memory_bytes = 256ull << 20;
  };
  /// Make the switch, broker, client and `hosts` host namespaces and their
  /// cgroups. On error, whatever was made is gone again.
  static result<std::unique_ptr<testbed>> create(int hosts, const limits& l);
  ~testbed();  ///< teardown()
  testbed(const testbed&) = delete;
  testbed& operator=(const testbed&) = delete;

  [[nodiscard]] const node& broker() const { return nodes_[0]; }
  [[nodiscard]] const node& client() const { return nodes_[1]; }
  /// Host i, 1-based.
  [[nodiscard]] const node& host(int i) const { return nodes_[static_cast<std::size_t>(i) + 1]; }
  [[nodiscard]] const std::string& cgroup_kind() const { return kind_; }
  /// Every node: broker, client, the hosts.
  [[nodiscard]] std::vector<const node*> nodes() const {
    std::vector<const node*> all;
    for (const auto& n : nodes_) all.push_back(&n);
    return all;
  }
  /// "sk<pid>": the prefix of the namespaces' names and the workers' hostnames.
  [[nodiscard]] const std::string& run_id() const { return prefix_; }

  /// Start `argv` (argv[0] a path) in the node's namespace and cgroup, in a
  /// session of its own, stdout and stderr to the files (appended).
  result<pid_t> spawn(const node& n, const std::vector<std::string>& argv, const std::string& out,
                      const std::string& err);
  /// Take the node's link down (its switch port) or up again.
  status set_link(const node& n, bool up);
  /// CPU seconds the node's cgroup used so far (NaN when not readable).
  [[nodiscard]] double cpu_seconds(const node& n) const;

  /// Kill every process in the cgroups, delete the namespaces (their veths go
  /// with them) and the cgroups. Idempotent; the first error.
  status teardown();
  /// What is left of this run: namespaces and cgroup directories by name.
  [[nodiscard]] std::vector<std::string> leftovers() const;

 private:
  testbed() = default;
  status make(int hosts, const limits& l);

  std::string prefix_;   // "sk1234"
  std::string cg_root_;  // "scalekit-hosts-1234"
  std::string kind_;     // "v1" or "v2"
  std::string switch_ns_;
  std::vector<node> nodes_;  // broker, client, h1..hN
  std::vector<pid_t> spawned_;
  bool made_ns_ = false;
};

/// The path of a program found in PATH (then /usr/sbin, /usr/bin), or "".
std::string find_program(const std::string& name);

/// Run a program (PATH searched) and wait; its stderr is the error's text.
status run_tool(const std::vector<std::string>& argv);

/// Wait for `pid` (our child) up to `seconds`; its wait status, or -1 when it
/// is still running.
int wait_child(pid_t pid, double seconds);

}  // namespace scalekit::scale::hosts_detail
