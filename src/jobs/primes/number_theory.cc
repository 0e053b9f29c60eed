// Miller-Rabin and Pollard-Brent rho in Montgomery arithmetic, and the trial
// algorithms' scalar parts.

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "scalekit/jobs/primes/primes.h"

namespace scalekit::jobs::primes {

namespace {

using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128;  // GCC/Clang built-in; __extension__ keeps -Wpedantic quiet

// Montgomery arithmetic modulo an odd n < 2^64, with R = 2^64. Values live in
// [0, n). mul() is REDC of a 128-bit product with a final conditional add,
// which is correct for every odd n (no 2^63 limit).
class montgomery {
 public:
  explicit montgomery(u64 n) : n_(n) {
    u64 inv = n;                                     // n*n = 1 mod 8: 3 bits right
    for (int i = 0; i < 5; ++i) inv *= 2 - n * inv;  // each step doubles them: 96 >= 64
    inv_ = inv;
    const u64 r = (0 - n) % n;  // 2^64 mod n
    r2_ = static_cast<u64>(static_cast<u128>(r) * r % n);
    one_ = r;
  }
  [[nodiscard]] u64 mul(u64 a, u64 b) const {
    const u128 t = static_cast<u128>(a) * b;
    const u64 m = static_cast<u64>(t) * inv_;
    const u64 mn_hi = static_cast<u64>((static_cast<u128>(m) * n_) >> 64);
    const u64 hi = static_cast<u64>(t >> 64);
    return hi >= mn_hi ? hi - mn_hi : hi - mn_hi + n_;  // (t - m*n) / 2^64, exact
  }
  [[nodiscard]] u64 to(u64 a) const { return mul(a % n_, r2_); }
  [[nodiscard]] u64 one() const { return one_; }
  [[nodiscard]] u64 add(u64 a, u64 b) const {
    const u64 s = a + b;
    return (s < a || s >= n_) ? s - n_ : s;
  }
  [[nodiscard]] u64 pow(u64 a, u64 e) const {
    u64 r = one_;
    while (e != 0) {
      if (e & 1) r = mul(r, a);
      a = mul(a, a);
      e >>= 1;
    }
    return r;
  }
  [[nodiscard]] u64 n() const { return n_; }

 private:
  u64 n_, inv_, r2_, one_;
};

constexpr u64 small_primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};

// Odd primes below 1000 with their inverses mod 2^64: p divides n exactly when
// n * inverse <= (2^64 - 1) / p, a multiply instead of a 25-40 cycle division
// (the first step of factoring, which dominates for numbers below 2^32).
struct divisor_test {
  u64 p, inverse, limit;
};

constexpr auto odd_primes_below_1000 = [] {
  std::array<divisor_test, 167> out{};
  std::size_t k = 0;
  for (u64 n = 3; n < 1000; n += 2) {
    bool prime = true;
    for (u64 d = 3; d * d <= n; d += 2)
      if (n % d == 0) prime = false;
    if (!prime) continue;
    u64 inv = n;
    for (int i = 0; i < 5; ++i) inv *= 2 - n * inv;
    out[k++] = {n, inv, ~u64{0} / n};
  }
  return out;
}();

// Witness test of one base, n odd > 37.
bool passes(const montgomery& m, u64 base, u64 d, int s) {
  const u64 a = base % m.n();
  if (a == 0) return true;
  const u64 minus_one = m.n() - m.one();  // n - R mod n, i.e. -1 in Montgomery form
  u64 x = m.pow(m.to(a), d);
  if (x == m.one() || x == minus_one) return true;
  for (int r = 1; r < s; ++r) {
    x = m.mul(x, x);
    if (x == minus_one) return true;
  }
  return false;
}

u64 abs_diff(u64 a, u64 b) { return a > b ? a - b : b - a; }

// A non-trivial factor of the odd composite n (Brent's variant of rho).
u64 rho(u64 n) {
  const montgomery m(n);
  for (u64 c0 = 1;; ++c0) {
    const u64 c = m.to(c0);
    auto f = [&](u64 v) { return m.add(m.mul(v, v), c); };
    u64 y = m.to(2), x = y, ys = y, q = m.one(), g = 1;
    constexpr u64 batch = 128;  // gcd once per 128 steps: the product carries every difference
    for (u64 r = 1; g == 1; r *= 2) {
      x = y;
      for (u64 i = 0; i < r; ++i) y = f(y);
      for (u64 k = 0; k < r && g == 1; k += batch) {
        ys = y;
        for (u64 i = 0; i < std::min(batch, r - k); ++i) {
          y = f(y);
          q = m.mul(q, abs_diff(x, y));
        }
        g = std::gcd(q, n);
      }
    }
    if (g == n) {  // the batch overshot: step back one at a time
      do {
        ys = f(ys);
        g = std::gcd(abs_diff(x, ys), n);
      } while (g == 1);
    }
    if (g != n) return g;
    // This c cycles without splitting n: try the next one.
  }
}

void factor_into(u64 n, std::vector<u64>& out) {
  if (n == 1) return;
  if (is_prime_fast(n)) {
    out.push_back(n);
    return;
  }
  const u64 d = rho(n);
  factor_into(d, out);
  factor_into(n / d, out);
}

}  // namespace

std::optional<algorithm> parse_algorithm(std::string_view name) {
  if (name == "fast") return algorithm::fast;
  if (name == "trial") return algorithm::trial;
  return std::nullopt;
}

std::uint64_t isqrt(std::uint64_t n) noexcept {
  auto r = static_cast<u64>(std::sqrt(static_cast<double>(n)));
  while (r > 0 && static_cast<u128>(r) * r > n) --r;
  while (static_cast<u128>(r + 1) * (r + 1) <= n) ++r;
  return r;
}

bool is_prime_fast(std::uint64_t n) noexcept {
  if (n < 2) return false;
  for (u64 p : small_primes)
    if (n % p == 0) return n == p;
  if (n < 41 * 41) return true;
  u64 d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  const montgomery m(n);
  // Bases 2, 7, 61 decide every n < 4,759,123,141 (Jaeschke); these seven
  // every n < 2^64 (Jim Sinclair's set).
  if (n < 4'759'123'141ULL) {
    for (u64 base : {2ULL, 7ULL, 61ULL})
      if (!passes(m, base, d, s)) return false;
    return true;
  }
  for (u64 base : {2ULL, 325ULL, 9375ULL, 28178ULL, 450775ULL, 9780504ULL, 1795265022ULL})
    if (!passes(m, base, d, s)) return false;
  return true;
}

bool is_prime_trial(std::uint64_t n) noexcept {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  return smallest_odd_divisor(n, 3, isqrt(n)) == 0;
}

std::vector<std::uint64_t> factor_fast(std::uint64_t n) {
  if (n < 2) return {n};
  std::vector<u64> out;
  while ((n & 1) == 0) {
    out.push_back(2);
    n >>= 1;
  }
  for (const auto& t : odd_primes_below_1000) {
    if (t.p * t.p > n) break;
    while (n * t.inverse <= t.limit) {  // t.p divides n
      out.push_back(t.p);
      n *= t.inverse;  // exact division: n / p
    }
  }
  if (n > 1 && n < 1000 * 1000) {
    out.push_back(n);  // no factor below 1000 and below 1000^2: prime
  } else {
    factor_into(n, out);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint64_t> factor_trial(std::uint64_t n) {
  if (n < 2) return {n};
  std::vector<u64> out;
  while (n % 2 == 0) {
    out.push_back(2);
    n /= 2;
  }
  u64 from = 3;
  while (n > 1) {
    const u64 d = smallest_odd_divisor(n, from, isqrt(n));
    if (d == 0) {
      out.push_back(n);  // no divisor up to sqrt(n): prime
      break;
    }
    out.push_back(d);
    n /= d;
    from = d;  // smaller divisors are gone; d may divide again
  }
  return out;
}

}  // namespace scalekit::jobs::primes
