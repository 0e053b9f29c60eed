// The scalability models: known parameters recovered from exact and noisy
// data, the bounds, Karp–Flatt, and one fit checked against a brute-force
// search that shares no code with the Levenberg–Marquardt path.

#include "scalekit/scale/usl.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace sc = scalekit::scale;

namespace {

std::vector<sc::measurement> exact(const sc::usl_params& p, const std::vector<double>& ns) {
  std::vector<sc::measurement> pts;
  for (double n : ns) pts.push_back({n, sc::usl_throughput(p, n)});
  return pts;
}

// Three runs at each N, throughput times (1 + 2% Gaussian noise), fixed seed.
std::vector<sc::measurement> noisy(const sc::usl_params& p, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.02);
  std::vector<sc::measurement> pts;
  for (double n : {1, 2, 4, 8, 12, 16, 24, 32, 48, 64})
    for (int rep = 0; rep < 3; ++rep) pts.push_back({n, sc::usl_throughput(p, n) * (1 + noise(rng))});
  return pts;
}

bool inside(const sc::estimate& e, double truth) { return e.low <= truth && truth <= e.high; }

}  // namespace

TEST(Usl, RecoversExactParameters) {
  const sc::usl_params truth{1000, 0.05, 0.001};
  const auto pts = exact(truth, {1, 2, 3, 4, 6, 8, 12, 16, 24, 32});
  auto f = sc::fit_usl(pts);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_NEAR(f->lambda.value, 1000, 1e-6);
  EXPECT_NEAR(f->sigma.value, 0.05, 1e-9);
  EXPECT_NEAR(f->kappa.value, 0.001, 1e-11);
  EXPECT_NEAR(f->r2, 1.0, 1e-12);
  EXPECT_FALSE(f->superlinear);
  auto peak = sc::peak_concurrency(f->params());
  ASSERT_TRUE(peak.has_value());
  EXPECT_NEAR(*peak, std::sqrt(0.95 / 0.001), 1e-6);
}

// A published fit: SPEC SDM91 (Gunther, Guerrilla Capacity Planning), as R's
// usl package fits it: σ = 0.0277285, κ = 0.0001044, λ = 89.9952330, standard
// errors 0.0091217, 0.0000199, 14.2134894, residual standard error 82.8 on 4 df.
TEST(Usl, ReproducesThePublishedSpecSdm91Fit) {
  const std::vector<sc::measurement> pts{{1, 64.9},     {18, 995.9},   {36, 1652.4}, {72, 1853.2},
                                         {108, 1828.9}, {144, 1775.0}, {216, 1702.2}};
  auto f = sc::fit_usl(pts);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_NEAR(f->sigma.value, 0.0277285, 5e-7);
  EXPECT_NEAR(f->kappa.value, 0.0001044, 5e-8);
  EXPECT_NEAR(f->lambda.value, 89.9952330, 5e-6);
  EXPECT_EQ(f->dof, 4);
  EXPECT_NEAR(std::sqrt(f->rss / f->dof), 82.8, 0.05);
  // The intervals are t(4) = 2.776 standard errors wide on each side.
  EXPECT_NEAR((f->sigma.high - f->sigma.low) / 2 / 2.776, 0.0091217, 5e-7);
  EXPECT_NEAR((f->kappa.high - f->kappa.low) / 2 / 2.776, 0.0000199, 5e-8);
  EXPECT_NEAR((f->lambda.high - f->lambda.low) / 2 / 2.776, 14.2134894, 5e-4);
}

TEST(Usl, NoisyDataIntervalsContainTheTruth) {
  const sc::usl_params truth{500, 0.03, 0.0005};
  for (unsigned seed : {1u, 2u, 3u}) {
    auto f = sc::fit_usl(noisy(truth, seed));
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    EXPECT_EQ(f->dof, 30 - 3);
    EXPECT_NEAR(f->lambda.value, 500, 25) << "seed " << seed;
    EXPECT_NEAR(f->sigma.value, 0.03, 0.01) << "seed " << seed;
    EXPECT_NEAR(f->kappa.value, 0.0005, 0.0002) << "seed " << seed;
    EXPECT_TRUE(inside(f->lambda, 500)) << seed << ": " << f->lambda.low << ".." << f->lambda.high;
    EXPECT_TRUE(inside(f->sigma, 0.03)) << seed << ": " << f->sigma.low << ".." << f->sigma.high;
    EXPECT_TRUE(inside(f->kappa, 0.0005)) << seed << ": " << f->kappa.low << ".." << f->kappa.high;
    EXPECT_GT(f->r2, 0.95);
    EXPECT_LT(f->sigma.high - f->sigma.low, 0.05);  // an interval, not a shrug
  }
}

TEST(Usl, AmdahlDataHasNoPeak) {
  const sc::usl_params truth{200, 0.1, 0};
  const auto pts = exact(truth, {1, 2, 4, 8, 16, 32, 64});
  auto u = sc::fit_usl(pts);
  ASSERT_TRUE(u.ok()) << u.error().to_string();
  EXPECT_EQ(u->kappa.value, 0.0);
  EXPECT_TRUE(u->kappa.at_bound);
  EXPECT_FALSE(sc::peak_concurrency(u->params()).has_value());
  EXPECT_NEAR(u->sigma.value, 0.1, 1e-9);

  auto a = sc::fit_amdahl(pts);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_NEAR(a->lambda.value, 200, 1e-7);
  EXPECT_NEAR(a->sigma.value, 0.1, 1e-10);
  EXPECT_EQ(a->kappa.value, 0.0);
  EXPECT_NEAR(a->r2, 1.0, 1e-12);
  EXPECT_NEAR(a->lambda.value / a->sigma.value, 2000, 1e-4);  // the Amdahl ceiling
}

TEST(Usl, SuperlinearIsFlaggedAndHeldAtZero) {
  // σ < 0: throughput grows faster than N (a working set that starts to fit in cache).
  std::vector<sc::measurement> pts;
  for (double n : {1, 2, 4, 8}) pts.push_back({n, 100 * n / (1 - 0.02 * (n - 1))});
  auto f = sc::fit_usl(pts);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_TRUE(f->superlinear);
  EXPECT_EQ(f->sigma.value, 0.0);
  EXPECT_TRUE(f->sigma.at_bound);
  EXPECT_GE(f->kappa.value, 0.0);
}

TEST(Usl, LinearDataIsNotSuperlinear) {
  std::vector<sc::measurement> pts;
  for (double n : {1, 2, 3, 4, 8}) pts.push_back({n, 100 * n});
  auto f = sc::fit_usl(pts);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_FALSE(f->superlinear);
  EXPECT_NEAR(f->lambda.value, 100, 1e-9);
  EXPECT_EQ(f->kappa.value, 0.0);
  EXPECT_FALSE(sc::peak_concurrency(f->params()).has_value());
}

TEST(Usl, RefusesThinOrBadData) {
  EXPECT_FALSE(sc::fit_usl(std::vector<sc::measurement>{{1, 10}, {2, 19}, {2, 18}}).ok());
  EXPECT_FALSE(sc::fit_usl(std::vector<sc::measurement>{{1, 10}, {2, 19}, {0.5, 5}}).ok());
  EXPECT_FALSE(sc::fit_usl(std::vector<sc::measurement>{{1, 10}, {2, -1}, {3, 5}}).ok());
  EXPECT_FALSE(sc::fit_amdahl(std::vector<sc::measurement>{{1, 0}, {2, 0}, {3, 0}}).ok());
  auto three = sc::fit_usl(std::vector<sc::measurement>{{1, 10}, {2, 19}, {4, 33}});
  ASSERT_TRUE(three.ok());  // an exact fit: no degrees of freedom, so no interval
  EXPECT_EQ(three->dof, 0);
  EXPECT_TRUE(std::isnan(three->sigma.low));
}

TEST(KarpFlatt, AmdahlSpeedupGivesItsSerialFraction) {
  // S(N) = N / (1 + f(N−1)) makes e = f at every N > 1.
  std::vector<sc::measurement> pts;
  for (double n : {1, 2, 3, 5, 10, 100}) pts.push_back({n, 50 * n / (1 + 0.1 * (n - 1))});
  const auto e = sc::karp_flatt(pts, 50);
  ASSERT_EQ(e.size(), pts.size());
  EXPECT_TRUE(std::isnan(e[0]));
  for (std::size_t i = 1; i < e.size(); ++i) EXPECT_NEAR(e[i], 0.1, 1e-12) << "N=" << pts[i].n;
  // Linear speedup: no serial fraction; N=4 at speedup 2: e = (1/2 − 1/4)/(3/4) = 1/3.
  const auto lin = sc::karp_flatt(std::vector<sc::measurement>{{4, 40}, {4, 20}}, 10);
  EXPECT_NEAR(lin[0], 0.0, 1e-15);
  EXPECT_NEAR(lin[1], 1.0 / 3, 1e-15);
}

TEST(TQuantile, MatchesTheTable) {
  EXPECT_DOUBLE_EQ(sc::t_quantile_95(1), 12.706);
  EXPECT_DOUBLE_EQ(sc::t_quantile_95(10), 2.228);
  EXPECT_DOUBLE_EQ(sc::t_quantile_95(40), 2.021);
  EXPECT_NEAR(sc::t_quantile_95(50), 2.009, 0.002);  // tables: 2.009
  EXPECT_NEAR(sc::t_quantile_95(100000), 1.960, 1e-3);
  EXPECT_TRUE(std::isnan(sc::t_quantile_95(0)));
}

// Independent check: for fixed σ and κ the best λ is closed-form
// (λ = Σxg / Σg² with g = N/D), so the least-squares optimum is found by a
// grid search over (σ, κ) that zooms in around the best cell. No Eigen, no LM.
TEST(Usl, AgreesWithBruteForceSearch) {
  const auto pts = noisy({800, 0.04, 0.0008}, 11);
  auto rss_at = [&](double s, double k, double* lambda_out) {
    double sxg = 0, sgg = 0;
    for (const auto& m : pts) {
      const double g = m.n / (1 + s * (m.n - 1) + k * m.n * (m.n - 1));
      sxg += m.x * g;
      sgg += g * g;
    }
    const double lambda = sxg / sgg;
    double rss = 0;
    for (const auto& m : pts) {
      const double e = lambda * m.n / (1 + s * (m.n - 1) + k * m.n * (m.n - 1)) - m.x;
      rss += e * e;
    }
    if (lambda_out) *lambda_out = lambda;
    return rss;
  };
  double s_lo = 0, s_hi = 0.2, k_lo = 0, k_hi = 0.005;
  double best_s = 0, best_k = 0;
  for (int zoom = 0; zoom < 12; ++zoom) {
    double best = INFINITY;
    constexpr int steps = 40;
    for (int i = 0; i <= steps; ++i)
      for (int j = 0; j <= steps; ++j) {
        const double s = s_lo + (s_hi - s_lo) * i / steps, k = k_lo + (k_hi - k_lo) * j / steps;
        const double r = rss_at(s, k, nullptr);
        if (r < best) best = r, best_s = s, best_k = k;
      }
    const double ds = (s_hi - s_lo) / 8, dk = (k_hi - k_lo) / 8;
    s_lo = std::max(0.0, best_s - ds), s_hi = best_s + ds;
    k_lo = std::max(0.0, best_k - dk), k_hi = best_k + dk;
  }
  double best_lambda = 0;
  const double best_rss = rss_at(best_s, best_k, &best_lambda);

  auto f = sc::fit_usl(pts);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->sigma.value, best_s, 1e-5 * std::max(1.0, best_s));
  EXPECT_NEAR(f->kappa.value, best_k, 1e-7);
  EXPECT_NEAR(f->lambda.value, best_lambda, 1e-3 * best_lambda);
  EXPECT_LE(f->rss, best_rss * (1 + 1e-9));  // LM is at least as good as the grid
}

// The band of the fitted mean: it holds the truth where the data are, is
// wider beyond them, and is NaN without the degrees of freedom for it.
TEST(Usl, ThroughputBandWidensBeyondTheData) {
  const sc::usl_params truth{1000, 0.05, 0.001};
  auto fit = sc::fit_usl(noisy(truth, 11));
  ASSERT_TRUE(fit.ok());
  const auto [lo16, hi16] = sc::throughput_band(*fit, 16);
  EXPECT_LE(lo16, sc::usl_throughput(truth, 16));
  EXPECT_GE(hi16, sc::usl_throughput(truth, 16));
  const auto [lo128, hi128] = sc::throughput_band(*fit, 128);
  EXPECT_GT((hi128 - lo128) / sc::usl_throughput(fit->params(), 128),
            (hi16 - lo16) / sc::usl_throughput(fit->params(), 16));
  auto exact3 = sc::fit_usl(exact(truth, {1, 2, 4}));  // three points, three parameters: no dof
  ASSERT_TRUE(exact3.ok());
  EXPECT_TRUE(std::isnan(sc::throughput_band(*exact3, 8).first));
}
