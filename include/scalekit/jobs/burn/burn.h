#pragma once
// The burn job: the seed's MuchCPU (chapter 14). Each worker runs one busy loop
// of `iterations` steps and reports which process and thread ran it, to show
// that C++ threads, unlike CPython's, use every core: threads and processes
// scale alike.

#include <cstdint>
#include <string>

namespace scalekit::jobs::burn {

/// Spin `iterations` times in a loop the optimizer cannot delete (~1 cycle a step).
void spin(std::uint64_t iterations) noexcept;

struct worker_report {
  long pid = 0;  ///< process id
  long tid = 0;  ///< kernel thread id
  double seconds = 0;
};

inline constexpr const char* burn_task = "burn.loop";
/// Register burn.loop (payload: u64 iterations; result: the worker_report).
void register_tasks();
worker_report decode_report(const std::string& bytes);

}  // namespace scalekit::jobs::burn
