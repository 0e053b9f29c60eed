#pragma once
// The factorial job: the seed's concurrent.futures example (chapter 5):
// submit each factorial to an executor, print each as it completes.
// Exact big integers through GMP.

#include <cstdint>
#include <string>

namespace scalekit::jobs::factorial {

/// Largest n accepted: n! then has about 5.6 million digits.
inline constexpr std::uint64_t max_n = 1'000'000;

/// n! in decimal. REQUIRES n <= max_n.
std::string factorial_decimal(std::uint64_t n);

inline constexpr const char* factorial_task = "factorial.compute";
/// Register factorial.compute (payload: u64 n; result: n! in decimal).
void register_tasks();

}  // namespace scalekit::jobs::factorial
