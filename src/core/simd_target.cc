#include "scalekit/core/simd_target.h"

#include <cstdlib>

namespace scalekit::core {

const std::vector<simd_target>& usable_simd_targets() {
  static const std::vector<simd_target> targets = [] {
    std::vector<simd_target> out;
#if defined(__x86_64__)
    __builtin_cpu_init();  // the checks include the OS's support for the registers (XGETBV)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw"))
      out.push_back(simd_target::avx3);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
      out.push_back(simd_target::avx2);
    if (__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul")) out.push_back(simd_target::sse4);
#endif
    out.push_back(simd_target::baseline);
    return out;
  }();
  return targets;
}

simd_target chosen_simd_target() {
  static const simd_target chosen = [] {
    const auto& usable = usable_simd_targets();
    if (const char* want = std::getenv("SCALEKIT_SIMD_TARGET")) {
      for (simd_target t : usable)
        if (to_string(t) == want) return t;
    }
    return usable.front();
  }();
  return chosen;
}

std::string_view to_string(simd_target t) {
  switch (t) {
    case simd_target::avx3: return "AVX3";
    case simd_target::avx2: return "AVX2";
    case simd_target::sse4: return "SSE4";
    case simd_target::baseline: return "BASELINE";
  }
  return "?";
}

}  // namespace scalekit::core
