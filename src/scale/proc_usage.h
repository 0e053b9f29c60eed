#pragma once
// The CPU and context switches of a running process tree (a server and the
// workers it forked), read from /proc: what a service sweep charges each
// request with. Threads and child processes are all counted; processes that
// ended between two readings take their counts with them (a server's
// workers live as long as it does, so this is rare).

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace scalekit::scale {

struct tree_usage {
  /// CPU of every process of the tree (all their threads, ended ones
  /// included), from /proc/PID/stat: clock ticks, 10 ms each.
  double user_s = 0, sys_s = 0;
  /// The same CPU in nanoseconds from each live thread's schedstat (user and
  /// system together): what a short step needs, where ticks are too coarse.
  double cpu_s = 0;
  std::uint64_t voluntary_switches = 0, involuntary_switches = 0;  ///< summed over every thread
  std::uint64_t processes = 0;

  tree_usage operator-(const tree_usage& b) const {
    return {user_s - b.user_s,
            sys_s - b.sys_s,
            cpu_s - b.cpu_s,
            voluntary_switches - b.voluntary_switches,
            involuntary_switches - b.involuntary_switches,
            processes};
  }
};

/// The fields of /proc/PID/stat from field 3 (state) on, so that field N is
/// at N - 3 (utime, field 14, at 11): read after the command's closing
/// parenthesis, since the command may hold spaces and parentheses. Empty
/// when `pid` is gone.
std::vector<std::string> stat_fields_of(pid_t pid);

/// `root` and its descendants, at this moment; zeros when `root` is gone.
tree_usage usage_of_tree(pid_t root);

}  // namespace scalekit::scale
