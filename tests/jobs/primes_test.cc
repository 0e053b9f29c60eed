#include "scalekit/jobs/primes/primes.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "scalekit/core/simd_target.h"

using namespace scalekit::jobs::primes;
using u64 = std::uint64_t;

namespace {

bool reference_is_prime(u64 n) {
  if (n < 2) return false;
  for (u64 d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

__extension__ typedef unsigned __int128 u128;

void expect_valid_factorization(u64 n, const std::vector<u64>& f) {
  ASSERT_FALSE(f.empty());
  u128 product = 1;
  for (std::size_t i = 0; i < f.size(); ++i) {
    EXPECT_TRUE(is_prime_fast(f[i])) << n << ": factor " << f[i] << " is not prime";
    if (i > 0) {
      EXPECT_LE(f[i - 1], f[i]) << n << ": factors not ascending";
    }
    product *= f[i];
  }
  EXPECT_TRUE(product == n) << n;
}

}  // namespace

TEST(Primes, SmallNumbersAgreeWithTheDefinition) {
  for (u64 n = 0; n < 20000; ++n) {
    ASSERT_EQ(is_prime_fast(n), reference_is_prime(n)) << n;
    ASSERT_EQ(is_prime_trial(n), reference_is_prime(n)) << n;
  }
}

TEST(Primes, HardCasesAndTheEdgesOf64Bits) {
  // The seed's is_prime calls 4 (and 0, 1, 2's even neighbours) prime: we don't.
  EXPECT_FALSE(is_prime_fast(4));
  EXPECT_FALSE(is_prime_trial(4));
  // Carmichael numbers and strong pseudoprimes to many small bases.
  for (u64 n : {561ULL, 1105ULL, 1729ULL, 2047ULL, 3215031751ULL, 2152302898747ULL, 3474749660383ULL,
                341550071728321ULL, 3825123056546413051ULL}) {
    EXPECT_FALSE(is_prime_fast(n)) << n;
  }
  // Squares of primes, including the largest that fit.
  for (u64 p : {3ULL, 65521ULL, 94906249ULL, 4294967291ULL}) {
    EXPECT_FALSE(is_prime_fast(p * p)) << p;
    if (p * p < (1ULL << 53)) {
      EXPECT_FALSE(is_prime_trial(p * p)) << p;  // the last divisor tried is the one
    }
  }
  EXPECT_TRUE(is_prime_fast(18446744073709551557ULL));  // the largest 64-bit prime
  EXPECT_FALSE(is_prime_fast(18446744073709551615ULL));
  EXPECT_TRUE(is_prime_fast(9007199254740881ULL));  // the largest prime below 2^53
  EXPECT_TRUE(is_prime_trial(9007199254740881ULL));
  EXPECT_TRUE(is_prime_trial(9007199254740997ULL));   // just above 2^53: the integer path
  EXPECT_FALSE(is_prime_trial(9007199254740993ULL));  // 2^53 + 1 = 3 * 107 * 28059810762433
}

TEST(Primes, FastAndTrialAgreeOnRandomNumbers) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 3000; ++i) {
    const u64 n = rng() >> (rng() % 40 + 24);  // up to 40 bits: trial stays quick
    ASSERT_EQ(is_prime_fast(n), is_prime_trial(n)) << n;
  }
}

TEST(Primes, TrialKernelSameOnEverySimdTarget) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const u64 n = (rng() >> 20) | 1;  // < 2^44, odd
    const u64 limit = isqrt(n);
    u64 expect = 0;
    for (u64 d = 3; d <= limit && d <= 100000; d += 2)
      if (n % d == 0) {
        expect = d;
        break;
      }
    if (expect == 0 && limit > 100000) continue;  // too slow to check by hand
    for (auto t : scalekit::core::usable_simd_targets())
      ASSERT_EQ(smallest_odd_divisor_on(t, n, 3, limit), expect) << n << " on " << scalekit::core::to_string(t);
  }
}

TEST(Primes, FactorsMultiplyBackToTheNumber) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const u64 n = rng() >> (rng() % 64);
    if (n < 2) continue;
    expect_valid_factorization(n, factor_fast(n));
  }
  // Semiprimes of two 32-bit primes: rho's hard case.
  expect_valid_factorization(4294967291ULL * 4294967279ULL, factor_fast(4294967291ULL * 4294967279ULL));
  EXPECT_EQ(factor_fast(4294967291ULL * 4294967291ULL), (std::vector<u64>{4294967291ULL, 4294967291ULL}));
  EXPECT_EQ(factor_fast(18446744073709551615ULL), (std::vector<u64>{3, 5, 17, 257, 641, 65537, 6700417}));
}

TEST(Primes, TrialFactorMatchesFast) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    const u64 n = rng() >> 30;  // 34 bits
    ASSERT_EQ(factor_trial(n), factor_fast(n)) << n;
  }
  EXPECT_EQ(factor_trial(0), std::vector<u64>{0});  // the seed's prime_factor(0) and (1)
  EXPECT_EQ(factor_trial(1), std::vector<u64>{1});
  EXPECT_EQ(factor_fast(1), std::vector<u64>{1});
}

TEST(Primes, ParseNumberNamesTheProblem) {
  EXPECT_EQ(parse_number("42").value(), 42u);
  EXPECT_EQ(parse_number(" 7\r").value(), 7u);
  EXPECT_EQ(parse_number("18446744073709551615").value(), 18446744073709551615ULL);
  EXPECT_NE(parse_number("18446744073709551616").error().message().find("larger than"), std::string::npos);
  EXPECT_NE(parse_number("-3").error().message().find("negative"), std::string::npos);
  EXPECT_NE(parse_number("abc").error().message().find("not a number"), std::string::npos);
  EXPECT_NE(parse_number("1.5").error().message().find("not a number"), std::string::npos);
  EXPECT_FALSE(parse_number("").ok());
}

TEST(Primes, OutputLinesAreTheSeeds) {
  EXPECT_EQ(check_line(17, true), "17 is prime");
  EXPECT_EQ(check_line(4, false), "4 is not prime");
  EXPECT_EQ(factor_line(12, {2, 2, 3}), "The factors of 12 are [2, 2, 3]");
  EXPECT_EQ(seed_list().size(), 1000u);
}

TEST(Primes, IsqrtIsExact) {
  for (u64 n : {0ULL, 1ULL, 3ULL, 4ULL, 99ULL, 100ULL, 18446744073709551615ULL, 18446744065119617025ULL}) {
    const u64 r = isqrt(n);
    EXPECT_LE(static_cast<u128>(r) * r, n);
    EXPECT_GT(static_cast<u128>(r + 1) * (r + 1), n);
  }
}
