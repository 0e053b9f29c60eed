#pragma once
// The escape test |z| < 2, decided exactly as CPython decides it.
//
// CPython tests abs(z) < 2 with hypot(re, im). Testing re*re + im*im < 4
// instead disagrees for a few points right at the boundary. The squared norm m
// is off from the true |z|^2 by at most ~2 ulp, and glibc's hypot by under
// 1 ulp, so whenever m is outside [4 - 1e-9, 4 + 1e-9] both tests agree; inside
// that band (almost never) we ask hypot itself, the very function CPython calls.

#include <cmath>

namespace scalekit::jobs::mandelbrot::detail {

inline constexpr double band_lo = 4.0 - 1e-9;
inline constexpr double band_hi = 4.0 + 1e-9;

/// true while the iteration continues (|z| < 2). m = zr*zr + zi*zi.
inline bool inside(double m, double zr, double zi) {
  if (m < band_lo) return true;
  if (m > band_hi) return false;
  return std::hypot(zr, zi) < 2.0;
}

}  // namespace scalekit::jobs::mandelbrot::detail
