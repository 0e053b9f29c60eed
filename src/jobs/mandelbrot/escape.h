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

/// true when c lies surely inside the main cardioid or the period-2 bulb.
/// Such points never escape: mathematically their orbit stays well inside
/// |z| < 2 (|z| <= 1.25 here), and rounding cannot move it that far, so
/// CPython's loop runs to max_iterations for them. The 1e-12 margin keeps every
/// point whose test is within rounding of the boundary on the full path, so
/// only points that are inside beyond doubt are skipped.
inline bool surely_never_escapes(double cr, double ci) {
  const double x = cr - 0.25, y2 = ci * ci;
  const double q = x * x + y2;
  if (q * (q + x) < 0.25 * y2 - 1e-12) return true;  // main cardioid
  const double b = cr + 1.0;
  return b * b + y2 < 0.0625 - 1e-12;  // period-2 bulb: |c + 1| < 1/4
}

}  // namespace scalekit::jobs::mandelbrot::detail
