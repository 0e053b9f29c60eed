// The USL and Amdahl's law by Levenberg–Marquardt (Eigen's MINPACK port).
//
// Constraints: σ, κ ≥ 0 are kept by "clamp and refit": fit with every
// parameter free; if σ or κ ends below zero (or κ is too small to change any
// prediction in the measured range), hold it at 0 and fit the others again.
// A transformed space (σ = s²) would keep the bound too, but it flattens the
// gradient at 0 and leaves no honest interval for the parameter; the refit
// gives exact zeros ("no peak") and ordinary intervals for the rest.

#include "scalekit/scale/usl.h"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <unsupported/Eigen/NonLinearOptimization>

namespace scalekit::scale {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

enum param { p_lambda = 0, p_sigma = 1, p_kappa = 2 };

// The residuals X_model(N_i) − X_i over the free parameters; the held ones
// keep their values in `all`.
struct usl_functor {
  std::span<const measurement> pts;
  std::vector<int> free;      // indices into the full (λ, σ, κ)
  std::array<double, 3> all;  // the full parameter vector

  [[nodiscard]] int values() const { return static_cast<int>(pts.size()); }
  [[nodiscard]] int inputs() const { return static_cast<int>(free.size()); }

  [[nodiscard]] std::array<double, 3> expand(const Eigen::VectorXd& x) const {
    auto p = all;
    for (std::size_t j = 0; j < free.size(); ++j) p[free[j]] = x[static_cast<Eigen::Index>(j)];
    return p;
  }

  int operator()(const Eigen::VectorXd& x, Eigen::VectorXd& fvec) const {
    const auto p = expand(x);
    for (std::size_t i = 0; i < pts.size(); ++i)
      fvec[static_cast<Eigen::Index>(i)] = usl_throughput({p[0], p[1], p[2]}, pts[i].n) - pts[i].x;
    return 0;
  }

  int df(const Eigen::VectorXd& x, Eigen::MatrixXd& jac) const {
    const auto p = expand(x);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const double n = pts[i].n;
      const double d = 1 + p[p_sigma] * (n - 1) + p[p_kappa] * n * (n - 1);
      const std::array<double, 3> grad{n / d, -p[p_lambda] * n * (n - 1) / (d * d),
                                       -p[p_lambda] * n * n * (n - 1) / (d * d)};
      for (std::size_t j = 0; j < free.size(); ++j)
        jac(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = grad[free[j]];
    }
    return 0;
  }
};

status check_points(std::span<const measurement> pts) {
  std::set<double> distinct;
  bool any_positive = false;
  for (const auto& m : pts) {
    const std::string where = m.line > 0 ? "line " + std::to_string(m.line) + ": " : "";
    if (!std::isfinite(m.n) || m.n < 1) return status::invalid_argument(where + "concurrency must be at least 1");
    if (!std::isfinite(m.x) || m.x < 0) return status::invalid_argument(where + "throughput must be 0 or more");
    distinct.insert(m.n);
    any_positive = any_positive || m.x > 0;
  }
  if (distinct.size() < 3)
    return status::invalid_argument("need at least 3 distinct concurrency values, got " +
                                    std::to_string(distinct.size()));
  if (!any_positive) return status::invalid_argument("every throughput is 0");
  return {};
}

// Start values from the linearisation N/X = 1/λ + (σ/λ)(N−1) + (κ/λ)N(N−1),
// ordinary least squares over the points with X > 0.
std::array<double, 3> start_values(std::span<const measurement> pts, bool with_kappa) {
  const int cols = with_kappa ? 3 : 2;
  std::vector<const measurement*> use;
  for (const auto& m : pts)
    if (m.x > 0) use.push_back(&m);
  Eigen::MatrixXd a(static_cast<Eigen::Index>(use.size()), cols);
  Eigen::VectorXd b(static_cast<Eigen::Index>(use.size()));
  for (std::size_t i = 0; i < use.size(); ++i) {
    const double n = use[i]->n;
    const auto r = static_cast<Eigen::Index>(i);
    a(r, 0) = 1;
    a(r, 1) = n - 1;
    if (with_kappa) a(r, 2) = n * (n - 1);
    b[r] = n / use[i]->x;
  }
  const Eigen::VectorXd c = a.colPivHouseholderQr().solve(b);
  double lambda = c[0] > 0 ? 1 / c[0] : 0;
  if (!(lambda > 0) || !std::isfinite(lambda)) {  // fall back on the best throughput per worker
    for (const auto* m : use) lambda = std::max(lambda, m->x / m->n);
    return {lambda, 0, 0};
  }
  return {lambda, std::max(0.0, c[1] * lambda), with_kappa ? std::max(0.0, c[2] * lambda) : 0.0};
}

// One Levenberg–Marquardt run over the free parameters of f, from f.all.
std::array<double, 3> minimize(usl_functor& f) {
  Eigen::VectorXd x(f.inputs());
  for (int j = 0; j < f.inputs(); ++j) x[j] = f.all[f.free[static_cast<std::size_t>(j)]];
  Eigen::LevenbergMarquardt<usl_functor> lm(f);
  lm.parameters.maxfev = 2000;
  lm.parameters.xtol = 1e-12;
  lm.parameters.ftol = 1e-14;
  lm.minimize(x);
  return f.expand(x);
}

result<fit_result> fit(std::span<const measurement> pts, bool with_kappa) {
  if (auto st = check_points(pts); !st.ok()) return st;
  double nmax = 1;
  for (const auto& m : pts) nmax = std::max(nmax, m.n);

  usl_functor f{pts, {p_lambda, p_sigma}, start_values(pts, with_kappa)};
  if (with_kappa) f.free.push_back(p_kappa);
  fit_result r;
  auto p = minimize(f);
  r.sigma_free = p[p_sigma];
  // Clamp and refit: at most once per bounded parameter.
  for (int round = 0; round < 2; ++round) {
    const bool kappa_out =
        with_kappa && std::count(f.free.begin(), f.free.end(), p_kappa) > 0 &&
        (p[p_kappa] < 0 || p[p_kappa] * nmax * (nmax - 1) < 1e-9 * (1 + std::max(0.0, p[p_sigma]) * (nmax - 1)));
    const bool sigma_out = std::count(f.free.begin(), f.free.end(), p_sigma) > 0 && p[p_sigma] < 0;
    if (!kappa_out && !sigma_out) break;
    // Rounding leaves exactly linear data a hair below 0: that is not superlinear.
    if (sigma_out && p[p_sigma] * (nmax - 1) < -1e-9) r.superlinear = true;
    // Hold the one that is further out; the other may come back inside once it is held.
    const int hold =
        sigma_out && (!kappa_out || p[p_sigma] * (nmax - 1) < p[p_kappa] * nmax * (nmax - 1)) ? p_sigma : p_kappa;
    std::erase(f.free, hold);
    f.all = p;
    f.all[hold] = 0;
    p = minimize(f);
  }

  // Fit quality and the covariance s²(JᵀJ)⁻¹ of the free parameters.
  const usl_params up{p[0], p[1], p[2]};
  double mean = 0;
  for (const auto& m : pts) mean += m.x;
  mean /= static_cast<double>(pts.size());
  double tss = 0;
  for (const auto& m : pts) {
    const double e = usl_throughput(up, m.n) - m.x;
    r.rss += e * e;
    tss += (m.x - mean) * (m.x - mean);
  }
  r.r2 = tss > 0 ? 1 - r.rss / tss : nan;
  r.dof = static_cast<int>(pts.size()) - f.inputs();

  Eigen::VectorXd x(f.inputs());
  for (int j = 0; j < f.inputs(); ++j) x[j] = p[f.free[static_cast<std::size_t>(j)]];
  Eigen::MatrixXd jac(f.values(), f.inputs());
  f.df(x, jac);
  // Columns scaled to unit length first: λ is in items/s (10^7 for pixels)
  // and σ, κ are fractions, so JᵀJ unscaled spans so many orders of magnitude
  // that the LU's rank test calls it singular. cov = D (J'ᵀJ')⁻¹ D, J' = J D.
  Eigen::VectorXd scale(f.inputs());
  for (int j = 0; j < f.inputs(); ++j) {
    const double norm = jac.col(j).norm();
    scale[j] = norm > 0 ? 1 / norm : 1;
  }
  const Eigen::MatrixXd scaled = jac * scale.asDiagonal();
  const Eigen::MatrixXd jtj = scaled.transpose() * scaled;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(jtj);
  std::array<double, 3> half{nan, nan, nan};
  if (r.dof > 0 && lu.isInvertible()) {
    const Eigen::MatrixXd cov = scale.asDiagonal() * lu.inverse() * scale.asDiagonal() * (r.rss / r.dof);
    const double t = t_quantile_95(r.dof);
    for (int j = 0; j < f.inputs(); ++j) half[f.free[static_cast<std::size_t>(j)]] = t * std::sqrt(cov(j, j));
    for (auto& row : r.covariance) row.fill(0);  // a held parameter varies with nothing
    for (int a = 0; a < f.inputs(); ++a)
      for (int b = 0; b < f.inputs(); ++b)
        r.covariance[static_cast<std::size_t>(f.free[static_cast<std::size_t>(a)])]
                    [static_cast<std::size_t>(f.free[static_cast<std::size_t>(b)])] = cov(a, b);
  }
  auto est = [&](int k) {
    const bool held = std::count(f.free.begin(), f.free.end(), k) == 0;
    if (held) return estimate{p[k], nan, nan, with_kappa || k != p_kappa};
    return estimate{p[k], p[k] - half[k], p[k] + half[k], false};
  };
  r.lambda = est(p_lambda);
  r.sigma = est(p_sigma);
  r.kappa = est(p_kappa);
  return r;
}

}  // namespace

double usl_throughput(const usl_params& p, double n) {
  return p.lambda * n / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1));
}

std::pair<double, double> throughput_band(const fit_result& f, double n) {
  const auto p = f.params();
  const double d = 1 + p.sigma * (n - 1) + p.kappa * n * (n - 1);
  const double x = usl_throughput(p, n);
  // ∂X/∂λ, ∂X/∂σ, ∂X/∂κ at n.
  const std::array<double, 3> g{n / d, -p.lambda * n * (n - 1) / (d * d), -p.lambda * n * n * (n - 1) / (d * d)};
  double var = 0;
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = 0; b < 3; ++b) var += g[a] * f.covariance[a][b] * g[b];
  const double half = t_quantile_95(f.dof) * std::sqrt(std::max(0.0, var));
  if (!std::isfinite(half)) return {nan, nan};
  return {x - half, x + half};
}

result<fit_result> fit_usl(std::span<const measurement> points) { return fit(points, true); }

result<fit_result> fit_amdahl(std::span<const measurement> points) { return fit(points, false); }

std::optional<double> peak_concurrency(const usl_params& p) {
  if (!(p.kappa > 0) || p.sigma >= 1) return std::nullopt;
  return std::sqrt((1 - p.sigma) / p.kappa);
}

std::vector<double> karp_flatt(std::span<const measurement> points, double x1) {
  std::vector<double> e;
  e.reserve(points.size());
  for (const auto& m : points) {
    const double s = x1 > 0 ? m.x / x1 : 0;
    if (m.n <= 1 || !(s > 0)) {
      e.push_back(nan);
      continue;
    }
    e.push_back((1 / s - 1 / m.n) / (1 - 1 / m.n));
  }
  return e;
}

double t_quantile_95(int dof) {
  static constexpr std::array<double, 30> table{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                                2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                                2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return nan;
  if (dof <= 30) return table[static_cast<std::size_t>(dof - 1)];
  // Above 30: linear in 1/dof between 30, 40, 60, 120 and infinity.
  static constexpr std::array<std::pair<double, double>, 5> tail{
      {{30, 2.042}, {40, 2.021}, {60, 2.000}, {120, 1.980}, {std::numeric_limits<double>::infinity(), 1.960}}};
  const double inv = 1.0 / dof;
  for (std::size_t i = 1; i < tail.size(); ++i) {
    if (dof <= tail[i].first) {
      const double a = 1 / tail[i - 1].first, b = 1 / tail[i].first;
      return tail[i - 1].second + (tail[i].second - tail[i - 1].second) * (a - inv) / (a - b);
    }
  }
  return 1.960;
}

}  // namespace scalekit::scale
