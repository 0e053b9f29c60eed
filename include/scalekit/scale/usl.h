#pragma once
// Scalability models fitted to measurements: the Universal Scalability Law
//   X(N) = λN / (1 + σ(N−1) + κN(N−1))
// and Amdahl's law (the USL with κ = 0), by non-linear least squares on the
// throughput (Eigen's Levenberg–Marquardt), with 95% confidence intervals;
// and the Karp–Flatt serial fraction of each point.
//
// All functions are pure and thread-safe.

#include <array>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::scale {

/// One measurement: throughput `x` at concurrency `n` (n ≥ 1, x ≥ 0).
/// `line` is where it came from (0: unknown), for messages.
struct measurement {
  double n = 1;
  double x = 0;
  int line = 0;
};

/// A fitted parameter and its 95% confidence interval. The interval is NaN
/// when it cannot be computed: no degrees of freedom left, a singular
/// Jacobian, or the parameter was held at its bound (`at_bound`).
struct estimate {
  double value = 0;
  double low = 0;
  double high = 0;
  bool at_bound = false;  ///< held at 0 because the free fit went below it
};

/// The model's parameters: X(N) = λN / (1 + σ(N−1) + κN(N−1)).
struct usl_params {
  double lambda = 0;
  double sigma = 0;
  double kappa = 0;
};

/// The throughput the model predicts at concurrency `n`.
double usl_throughput(const usl_params& p, double n);

inline constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

struct fit_result {
  estimate lambda, sigma, kappa;  ///< kappa is 0 (at_bound) for Amdahl's law
  double r2 = 0;                  ///< 1 − RSS/TSS
  double rss = 0;                 ///< residual sum of squares
  int dof = 0;                    ///< points minus free parameters
  /// The free fit wanted σ < 0: throughput grows faster than linearly
  /// (superlinear speedup). σ is then reported as 0, at its bound.
  bool superlinear = false;
  /// σ of the first, unconstrained fit: below 0 when superlinear (reported
  /// as such by the sweeps, which do not clamp it).
  double sigma_free = 0;
  /// Covariance of (λ, σ, κ), in that order: s²(JᵀJ)⁻¹ of the free
  /// parameters, 0 for a held one; NaN when the intervals are NaN.
  std::array<std::array<double, 3>, 3> covariance{
      {{nan_value, nan_value, nan_value}, {nan_value, nan_value, nan_value}, {nan_value, nan_value, nan_value}}};
  [[nodiscard]] usl_params params() const { return {lambda.value, sigma.value, kappa.value}; }
};

/// Fit the USL (λ, σ, κ free; σ, κ ≥ 0) to the points. Needs at least three
/// distinct n; returns invalid_argument otherwise, or for n < 1, negative or
/// non-finite values, or no throughput above zero.
result<fit_result> fit_usl(std::span<const measurement> points);

/// Fit Amdahl's law (λ, σ free; σ ≥ 0; κ = 0). Same requirements.
result<fit_result> fit_amdahl(std::span<const measurement> points);

/// The 95% confidence band of the fitted mean throughput at `n` (delta
/// method: gᵀ·cov·g with g the gradient of X(n) in λ, σ, κ, times Student's
/// t); NaN when the fit has no covariance. Outside the measured range it is
/// the band of an extrapolation: it says how far the parameters' uncertainty
/// carries, not whether the model still holds there.
std::pair<double, double> throughput_band(const fit_result& f, double n);

/// The USL's peak: N* = √((1−σ)/κ); nullopt when κ = 0 or σ ≥ 1 (no
/// interior maximum).
std::optional<double> peak_concurrency(const usl_params& p);

/// Karp–Flatt's experimentally determined serial fraction of each point,
/// e = (1/S − 1/N) / (1 − 1/N) with the speedup S = X(N) / x1; NaN where N = 1
/// (undefined) or S = 0. In the order of `points`.
std::vector<double> karp_flatt(std::span<const measurement> points, double x1);

/// The two-sided 95% Student t quantile for `dof` degrees of freedom (from a
/// table: exact to the table's 3 decimals up to 30, interpolated in 1/dof
/// above). NaN for dof < 1.
double t_quantile_95(int dof);

}  // namespace scalekit::scale
