#include "scalekit/core/simd_target.h"

#include <cstdlib>

#if defined(__x86_64__)
#if defined(__clang__)
// glibc 2.36's <sys/platform/x86.h> spells its return type _Bool, which clang
// does not take in C++ (GCC does). A workaround listed in docs/DESIGN.md.
// TODO: Remove this workaround when the bug is fixed.
#define _Bool bool
#include <sys/platform/x86.h>
#undef _Bool
#else
#include <sys/platform/x86.h>
#endif
#endif

namespace scalekit::core {

#if defined(__x86_64__)
namespace {

// The CPU's features that the OS lets programs use, from the table the C
// library filled in at start (glibc's <sys/platform/x86.h>): no CPUID here.
// Each CPUID is an exit to the hypervisor in a virtual machine, about 10 us on
// the benchmark machine; __builtin_cpu_supports would also link libgcc's
// __cpu_indicator_init, a constructor that runs its own at every start.
struct cpu_features {
  bool sse4 = false, avx2 = false, avx3 = false;
  bool avx3_bytes = false;  // and VBMI, VBMI2, GFNI, POPCNT, LZCNT
};

cpu_features read_cpu_features() {
  cpu_features f;
  f.sse4 = CPU_FEATURE_ACTIVE(SSE4_2) && CPU_FEATURE_ACTIVE(PCLMULQDQ);
  f.avx2 = CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA) && CPU_FEATURE_ACTIVE(BMI2);
  f.avx3 = CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX512VL) && CPU_FEATURE_ACTIVE(AVX512DQ) &&
           CPU_FEATURE_ACTIVE(AVX512BW);
  f.avx3_bytes = f.avx3 && CPU_FEATURE_ACTIVE(AVX512_VBMI) && CPU_FEATURE_ACTIVE(AVX512_VBMI2) &&
                 CPU_FEATURE_ACTIVE(GFNI) && CPU_FEATURE_ACTIVE(POPCNT) && CPU_FEATURE_ACTIVE(LZCNT);
  return f;
}

const cpu_features& features() {
  static const cpu_features f = read_cpu_features();
  return f;
}

}  // namespace
#endif

const std::vector<simd_target>& usable_simd_targets() {
  static const std::vector<simd_target> targets = [] {
    std::vector<simd_target> out;
#if defined(__x86_64__)
    const cpu_features& f = features();
    if (f.avx3) out.push_back(simd_target::avx3);
    if (f.avx2) out.push_back(simd_target::avx2);
    if (f.sse4) out.push_back(simd_target::sse4);
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

bool usable_avx3_byte_ops() {
#if defined(__x86_64__)
  return chosen_simd_target() == simd_target::avx3 && features().avx3_bytes;
#else
  return false;
#endif
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
