// The vectorized kernel: Highway, compiled for several x86/ARM targets and
// dispatched at run time to the best one this CPU supports.
//
// Each lane follows one pixel with exactly the scalar kernel's operations
// (no FMA: the build sets -ffp-contract=off), so both kernels produce the same
// counts. Lanes that escape keep computing (their values run off to inf/NaN,
// which is harmless and not slow) but stop counting; a group of vectors ends
// when all its lanes are done. `unroll` independent vectors are interleaved to
// hide the latency of the z*z + c chain.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "jobs/mandelbrot/kernel_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "escape.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

HWY_BEFORE_NAMESPACE();
namespace scalekit::jobs::mandelbrot::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int unroll = 4;

void RowIterations(const params& p, std::uint32_t y, std::uint32_t* out) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t group = lanes * unroll;
  const std::size_t padded = (p.width + group - 1) / group * group;

  // cr per pixel, computed exactly as the scalar kernel does; padding lanes get
  // c = -2.5, which escapes after one iteration.
  std::vector<double> cr(padded, -2.5);
  const double sx = 3.5 / static_cast<double>(p.width);
  for (std::uint32_t x = 0; x < p.width; ++x) cr[x] = static_cast<double>(x) * sx - 2.5;
  std::vector<double> counts(padded);
  const double ci_scalar = static_cast<double>(y) * (2.0 / static_cast<double>(p.height)) - 1.0;

  const auto ci = hn::Set(d, ci_scalar);
  const auto lo = hn::Set(d, detail::band_lo);
  const auto hi = hn::Set(d, detail::band_hi);
  const auto one = hn::Set(d, 1.0);
  HWY_ALIGN double zr_buf[HWY_MAX_BYTES / sizeof(double)];
  HWY_ALIGN double zi_buf[HWY_MAX_BYTES / sizeof(double)];
  HWY_ALIGN double unsure_buf[HWY_MAX_BYTES / sizeof(double)];
  HWY_ALIGN double inside_buf[HWY_MAX_BYTES / sizeof(double)];

  for (std::size_t base = 0; base < padded; base += group) {
    using V = decltype(hn::Zero(d));
    using M = decltype(hn::FirstN(d, 0));
    V zr[unroll], zi[unroll], c[unroll], cnt[unroll];
    M active[unroll];
    for (int u = 0; u < unroll; ++u) {
      zr[u] = hn::Zero(d);
      zi[u] = hn::Zero(d);
      cnt[u] = hn::Zero(d);
      c[u] = hn::LoadU(d, &cr[base + static_cast<std::size_t>(u) * lanes]);
      active[u] = hn::FirstN(d, lanes);
    }
    for (std::uint32_t k = 0; k < p.max_iterations; ++k) {
      bool any = false;
      for (int u = 0; u < unroll; ++u) {
        const auto xx = hn::Mul(zr[u], zr[u]);
        const auto yy = hn::Mul(zi[u], zi[u]);
        const auto m = hn::Add(xx, yy);
        auto in = hn::Lt(m, lo);
        const auto maybe = hn::Lt(m, hi);
        const auto unsure = hn::And(hn::AndNot(in, maybe), active[u]);
        if (HWY_UNLIKELY(!hn::AllFalse(d, unsure))) {
          // Right at |z| = 2: decide lane by lane with hypot, as CPython does.
          hn::Store(zr[u], d, zr_buf);
          hn::Store(zi[u], d, zi_buf);
          hn::Store(hn::VecFromMask(d, unsure), d, unsure_buf);
          for (std::size_t l = 0; l < lanes; ++l) {
            std::uint64_t bits;  // a true mask lane is all ones, a false one all zeros
            std::memcpy(&bits, &unsure_buf[l], sizeof bits);
            const bool was_unsure = bits != 0;
            inside_buf[l] = was_unsure && std::hypot(zr_buf[l], zi_buf[l]) < 2.0 ? 1.0 : 0.0;
          }
          in = hn::Or(in, hn::Gt(hn::Load(d, inside_buf), hn::Zero(d)));
        }
        active[u] = hn::And(active[u], in);
        if (hn::AllFalse(d, active[u])) continue;
        any = true;
        cnt[u] = hn::Add(cnt[u], hn::IfThenElseZero(active[u], one));
        const auto t = hn::Mul(zr[u], zi[u]);
        zr[u] = hn::Add(hn::Sub(xx, yy), c[u]);
        zi[u] = hn::Add(hn::Add(t, t), ci);
      }
      if (!any) break;
    }
    for (int u = 0; u < unroll; ++u) hn::StoreU(cnt[u], d, &counts[base + static_cast<std::size_t>(u) * lanes]);
  }
  for (std::uint32_t x = 0; x < p.width; ++x) out[x] = static_cast<std::uint32_t>(counts[x]);
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace scalekit::jobs::mandelbrot::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace scalekit::jobs::mandelbrot {

HWY_EXPORT(RowIterations);
HWY_EXPORT(TargetName);

void row_iterations_simd(const params& p, std::uint32_t y, std::uint32_t* out) {
  HWY_DYNAMIC_DISPATCH(RowIterations)(p, y, out);
}

std::string simd_target_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace scalekit::jobs::mandelbrot
#endif
