// The vectorized kernel: Highway, compiled for several x86/ARM targets and
// dispatched at run time to the best one this CPU supports.
//
// libhwy.so is not linked: its 1.0.3 build calibrates a timer in a static
// initializer, which costs ~4 ms at every start of every scalekit command.
// Highway is used header-only for a fixed set of x86 targets, and
// core/simd_target.h picks the target.
// A workaround: docs/DESIGN.md lists it ("Compiler and library workarounds").
//
// Each lane follows one pixel with exactly the scalar kernel's operations
// (no FMA: the build sets -ffp-contract=off), so both kernels produce the same
// counts. Lanes that escape keep computing (their values run off to inf/NaN,
// which is harmless and not slow) but stop counting; a group of vectors ends
// when all its lanes are done. `unroll` independent vectors are interleaved to
// hide the latency of the z*z + c chain.

#include "jobs/hwy_targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "jobs/mandelbrot/kernel_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "escape.h"
#include "scalekit/core/simd_target.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

HWY_BEFORE_NAMESPACE();
namespace scalekit::jobs::mandelbrot::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int unroll = 4;

void RowIterations(const params& p, std::uint32_t y, std::uint32_t* out) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t group = lanes * unroll;

  // Only pixels that need iterating go into the vectors: those that surely
  // never escape (see escape.h) get max_iterations directly, so they do not
  // sit as dead lanes beside live ones. cr is computed exactly as the scalar
  // kernel does; padding lanes get c = -2.5, which escapes after one iteration.
  // With the default region these are the seed's x*(3.5/W) - 2.5 and y*(2/H) - 1,
  // bit for bit: 1 - (-2.5) and 1 - (-1) are exact, and adding -2.5 is subtracting 2.5.
  const double ci_scalar = static_cast<double>(y) * ((p.y1 - p.y0) / static_cast<double>(p.height)) + p.y0;
  const double sx = (p.x1 - p.x0) / static_cast<double>(p.width);
  std::vector<double> cr;
  std::vector<std::uint32_t> pixel;  // cr[i] belongs to pixel x = pixel[i]
  cr.reserve(p.width + group);
  pixel.reserve(p.width);
  for (std::uint32_t x = 0; x < p.width; ++x) {
    const double c = static_cast<double>(x) * sx + p.x0;
    if (p.shortcut && detail::surely_never_escapes(c, ci_scalar)) {
      out[x] = p.max_iterations;
    } else {
      cr.push_back(c);
      pixel.push_back(x);
    }
  }
  const std::size_t live = cr.size();
  const std::size_t padded = (live + group - 1) / group * group;
  cr.resize(padded, -2.5);
  std::vector<double> counts(padded);

  const auto ci = hn::Set(d, ci_scalar);
  const auto lo = hn::Set(d, detail::band_lo);
  const auto hi = hn::Set(d, detail::band_hi);
  HWY_ALIGN double zr_buf[HWY_MAX_BYTES / sizeof(double)];
  HWY_ALIGN double zi_buf[HWY_MAX_BYTES / sizeof(double)];
  HWY_ALIGN double unsure_buf[HWY_MAX_BYTES / sizeof(double)];
  HWY_ALIGN double inside_buf[HWY_MAX_BYTES / sizeof(double)];

  for (std::size_t base = 0; base < padded; base += group) {
    using V = decltype(hn::Zero(d));
    using M = decltype(hn::FirstN(d, 0));
    V zr[unroll], zi[unroll], c[unroll], cnt[unroll];
    M active[unroll];
    bool done[unroll];
    for (int u = 0; u < unroll; ++u) {
      zr[u] = hn::Zero(d);
      zi[u] = hn::Zero(d);
      cnt[u] = hn::Set(d, static_cast<double>(p.max_iterations));  // lanes that never escape
      c[u] = hn::LoadU(d, &cr[base + static_cast<std::size_t>(u) * lanes]);
      active[u] = hn::FirstN(d, lanes);
      done[u] = false;
    }
    // The hot loop does one compare per vector; everything about a lane's exit
    // (the hypot check near |z| = 2, recording its count) happens on the rare
    // iterations where some lane leaves.
    for (std::uint32_t k = 0; k < p.max_iterations; ++k) {
      bool any = false;
      for (int u = 0; u < unroll; ++u) {
        if (done[u]) continue;
        const auto xx = hn::Mul(zr[u], zr[u]);
        const auto yy = hn::Mul(zi[u], zi[u]);
        const auto m = hn::Add(xx, yy);
        auto leaving = hn::AndNot(hn::Lt(m, lo), active[u]);  // active and not surely inside
        if (HWY_UNLIKELY(!hn::AllFalse(d, leaving))) {
          const auto unsure = hn::And(leaving, hn::Lt(m, hi));
          if (HWY_UNLIKELY(!hn::AllFalse(d, unsure))) {
            // Right at |z| = 2: decide lane by lane with hypot, as CPython does.
            hn::Store(zr[u], d, zr_buf);
            hn::Store(zi[u], d, zi_buf);
            hn::Store(hn::VecFromMask(d, unsure), d, unsure_buf);
            for (std::size_t l = 0; l < lanes; ++l) {
              std::uint64_t bits;  // a true mask lane is all ones, a false one all zeros
              std::memcpy(&bits, &unsure_buf[l], sizeof bits);
              inside_buf[l] = bits != 0 && std::hypot(zr_buf[l], zi_buf[l]) < 2.0 ? 1.0 : 0.0;
            }
            leaving = hn::AndNot(hn::Gt(hn::Load(d, inside_buf), hn::Zero(d)), leaving);
          }
          cnt[u] = hn::IfThenElse(leaving, hn::Set(d, static_cast<double>(k)), cnt[u]);
          active[u] = hn::AndNot(leaving, active[u]);
          if (hn::AllFalse(d, active[u])) {
            done[u] = true;
            continue;
          }
        }
        any = true;
        const auto t = hn::Mul(zr[u], zi[u]);
        zr[u] = hn::Add(hn::Sub(xx, yy), c[u]);
        zi[u] = hn::Add(hn::Add(t, t), ci);
      }
      if (!any) break;
    }
    for (int u = 0; u < unroll; ++u) hn::StoreU(cnt[u], d, &counts[base + static_cast<std::size_t>(u) * lanes]);
  }
  for (std::size_t i = 0; i < live; ++i) out[pixel[i]] = static_cast<std::uint32_t>(counts[i]);
}

}  // namespace scalekit::jobs::mandelbrot::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace scalekit::jobs::mandelbrot {

namespace {

using row_fn = void (*)(const params&, std::uint32_t, std::uint32_t*);

row_fn kernel_for(core::simd_target t) {
  switch (t) {
#if defined(SCALEKIT_X86_DISPATCH)
    case core::simd_target::avx3: return N_AVX3::RowIterations;
    case core::simd_target::avx2: return N_AVX2::RowIterations;
    case core::simd_target::sse4: return N_SSE4::RowIterations;
#endif
    default: return HWY_STATIC_DISPATCH(RowIterations);
  }
}

}  // namespace

void row_iterations_simd(const params& p, std::uint32_t y, std::uint32_t* out) {
  static const row_fn fn = kernel_for(core::chosen_simd_target());
  fn(p, y, out);
}

std::string simd_target_name() { return std::string(core::to_string(core::chosen_simd_target())); }

std::vector<std::string> simd_targets() {
  std::vector<std::string> names;
  for (auto t : core::usable_simd_targets()) names.emplace_back(core::to_string(t));
  return names;
}

void row_iterations_simd_on(const std::string& target, const params& p, std::uint32_t y, std::uint32_t* out) {
  for (auto t : core::usable_simd_targets()) {
    if (target == core::to_string(t)) return kernel_for(t)(p, y, out);
  }
  throw std::invalid_argument("SIMD target '" + target + "' is not usable on this CPU");
}

}  // namespace scalekit::jobs::mandelbrot
#endif
