// The trial-division kernel: the smallest odd divisor of n in [from, limit].
//
// Below 2^53 the divisibility test is a floating-point division, exact by
// construction: n and every candidate d are exact doubles; when d divides n the
// quotient is an integer below 2^53, so the correctly rounded n/d is that
// integer; when it does not, n/d is at least 1/d away from any integer while
// half an ulp of it is n/(d*2^53) < 1/d, so the rounded quotient is never an
// integer. The test "n/d == floor(n/d)" is therefore exactly "d divides n", and
// it vectorizes: one vector division checks 2-8 candidates, where a 64-bit
// integer division checks one in 15-40 cycles.
//
// Highway header-only, compiled per x86 target; core/simd_target.h picks one.

#include "jobs/hwy_targets.h"
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "jobs/primes/trial_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstdint>

#include "scalekit/core/simd_target.h"
#include "scalekit/jobs/primes/primes.h"

HWY_BEFORE_NAMESPACE();
namespace scalekit::jobs::primes::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// REQUIRES n < 2^53, from odd >= 3.
std::uint64_t SmallestOddDivisor(std::uint64_t n, std::uint64_t from, std::uint64_t limit) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  constexpr int unroll = 4;
  const auto nv = hn::Set(d, static_cast<double>(n));
  const auto lim = hn::Set(d, static_cast<double>(limit));
  const auto step = hn::Set(d, static_cast<double>(2 * lanes));
  // Candidates from, from+2, ... one per lane.
  HWY_ALIGN double init[HWY_MAX_BYTES / sizeof(double)];
  for (std::size_t l = 0; l < lanes; ++l) init[l] = static_cast<double>(from + 2 * l);
  auto cand = hn::Load(d, init);
  for (std::uint64_t base = from; base <= limit; base += 2 * lanes * unroll) {
    decltype(hn::FirstN(d, 0)) hit[unroll];
    decltype(cand) c[unroll];
    bool any = false;
    for (int u = 0; u < unroll; ++u) {
      c[u] = cand;
      const auto q = hn::Div(nv, cand);
      hit[u] = hn::And(hn::Eq(q, hn::Floor(q)), hn::Le(cand, lim));
      any = any || !hn::AllFalse(d, hit[u]);
      cand = hn::Add(cand, step);
    }
    if (HWY_UNLIKELY(any)) {
      for (int u = 0; u < unroll; ++u) {
        if (hn::AllFalse(d, hit[u])) continue;
        HWY_ALIGN double cs[HWY_MAX_BYTES / sizeof(double)];
        HWY_ALIGN double hs[HWY_MAX_BYTES / sizeof(double)];
        hn::Store(c[u], d, cs);
        hn::Store(hn::IfThenElseZero(hit[u], hn::Set(d, 1.0)), d, hs);
        for (std::size_t l = 0; l < lanes; ++l)
          if (hs[l] != 0.0) return static_cast<std::uint64_t>(cs[l]);  // lanes ascend: the first is the smallest
      }
    }
  }
  return 0;
}

}  // namespace scalekit::jobs::primes::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace scalekit::jobs::primes {

namespace {

using divisor_fn = std::uint64_t (*)(std::uint64_t, std::uint64_t, std::uint64_t);

divisor_fn kernel_for(core::simd_target t) {
  switch (t) {
#if defined(SCALEKIT_X86_DISPATCH)
    case core::simd_target::avx3: return N_AVX3::SmallestOddDivisor;
    case core::simd_target::avx2: return N_AVX2::SmallestOddDivisor;
    case core::simd_target::sse4: return N_SSE4::SmallestOddDivisor;
#endif
    default: return HWY_STATIC_DISPATCH(SmallestOddDivisor);
  }
}

constexpr std::uint64_t exact_double_limit = std::uint64_t{1} << 53;

}  // namespace

std::uint64_t smallest_odd_divisor(std::uint64_t n, std::uint64_t from, std::uint64_t limit) noexcept {
  if (n < exact_double_limit) {
    static const divisor_fn fn = kernel_for(core::chosen_simd_target());
    return fn(n, from, limit);
  }
  for (std::uint64_t dv = from; dv <= limit; dv += 2)
    if (n % dv == 0) return dv;
  return 0;
}

std::uint64_t smallest_odd_divisor_on(core::simd_target t, std::uint64_t n, std::uint64_t from,
                                      std::uint64_t limit) noexcept {
  return kernel_for(t)(n, from, limit);
}

}  // namespace scalekit::jobs::primes
#endif
