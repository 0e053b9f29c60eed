#include "scalekit/core/simd_target.h"

#include <cstdlib>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace scalekit::core {

#if defined(__x86_64__)
namespace {

// The CPU's features and the OS's support for their registers, read here
// rather than with __builtin_cpu_supports: that builtin links libgcc's
// __cpu_indicator_init, a constructor that runs its CPUID queries at every
// start of every program (each one an exit to the hypervisor in a virtual
// machine), though only mandelbrot's SIMD kernels ask.
struct cpu_features {
  bool sse4 = false, avx2 = false, avx3 = false;
  bool avx3_bytes = false;  // and VBMI, VBMI2, GFNI, POPCNT, LZCNT
};

cpu_features read_cpu_features() {
  cpu_features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool sse42 = c & bit_SSE4_2, pclmul = c & bit_PCLMUL, fma = c & bit_FMA, popcnt = c & bit_POPCNT;
  const bool osxsave = c & bit_OSXSAVE, avx = c & bit_AVX;
  f.sse4 = sse42 && pclmul;
  if (!osxsave || !avx) return f;
  unsigned lo = 0, hi = 0;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const bool ymm = (lo & 0x6) == 0x6, zmm = (lo & 0xE6) == 0xE6;  // SSE+AVX state; and opmask, ZMM
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm && fma && (b & bit_AVX2) && (b & bit_BMI2);
  f.avx3 = zmm && (b & bit_AVX512F) && (b & bit_AVX512VL) && (b & bit_AVX512DQ) && (b & bit_AVX512BW);
  const bool bytes = (c & bit_AVX512VBMI) && (c & bit_AVX512VBMI2) && (c & bit_GFNI);
  unsigned ext_c = 0;
  if (__get_cpuid(0x80000001, &a, &b, &ext_c, &d)) f.avx3_bytes = f.avx3 && bytes && popcnt && (ext_c & bit_LZCNT);
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
