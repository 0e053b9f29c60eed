#pragma once
// Which vector instruction set a SIMD kernel should use on this CPU.
//
// Kernels are written once with Highway and compiled for a fixed set of x86
// targets (AVX3 = AVX-512 F/VL/DQ/BW, AVX2 + FMA + BMI2, SSE4) plus the
// baseline; each kernel maps the target chosen here to its own function.
// (libhwy.so's own dispatcher is not used: see docs/DESIGN.md.)
// The environment variable SCALEKIT_SIMD_TARGET=AVX3|AVX2|SSE4|BASELINE picks
// another usable target, so tests can check every compiled target on one machine.
// Thread-safe.

#include <string_view>
#include <vector>

namespace scalekit::core {

enum class simd_target { avx3, avx2, sse4, baseline };

/// Every target this CPU (and OS) can run, best first; baseline is always last.
const std::vector<simd_target>& usable_simd_targets();
/// The best usable target, or the usable one SCALEKIT_SIMD_TARGET names.
simd_target chosen_simd_target();
/// Whether kernels may use AVX-512's byte instructions beside AVX3: VBMI
/// (byte permutes), VBMI2 (byte compress) and GFNI (which reverses the bits of
/// bytes), with POPCNT and LZCNT; Intel Ice Lake, AMD Zen 4 and later have
/// them. True when this CPU has them and AVX3 is the chosen target (so
/// SCALEKIT_SIMD_TARGET=AVX2 turns them off too).
bool usable_avx3_byte_ops();
/// "AVX3", "AVX2", "SSE4", "BASELINE".
std::string_view to_string(simd_target t);

}  // namespace scalekit::core
