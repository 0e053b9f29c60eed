#pragma once
// Proportional set size (PSS) of a process tree, from /proc/PID/smaps_rollup:
// PSS, not RSS, because RSS counts the pages forked workers share once per
// worker. Linux 4.14 and later; 0 where the file cannot be read.

#include <memory>
#include <string>

namespace scalekit::scale {

/// The PSS in KiB of process `pid` ("self" or a number), 0 when unreadable.
double pss_of(const std::string& pid);

/// The PSS of `pid` and of its children (one level: a pool's worker
/// processes), summed, in KiB.
double pss_of_tree(const std::string& pid);

/// Samples pss_of_tree("self") every 20 ms on a thread of its own, keeping the peak.
class pss_sampler {
 public:
  pss_sampler();
  ~pss_sampler();
  pss_sampler(const pss_sampler&) = delete;
  pss_sampler& operator=(const pss_sampler&) = delete;
  /// Stop sampling; the peak, a last sample included.
  double stop_and_peak();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace scalekit::scale
