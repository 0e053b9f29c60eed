#include "scalekit/jobs/primes/primes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stop_token>
#include <thread>

#include "run_command.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/process_pool.h"
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

// The job through its entries, on every local executor.

namespace {

using scalekit::core::collecting_observer;
using scalekit::core::executor_kind;
using scalekit::core::report;

template <typename T>
T field(const report& r, std::string_view key) {
  const auto* v = r.find(key);
  if (v == nullptr) throw std::runtime_error("no field " + std::string(key));
  return std::get<T>(*v);
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

class PrimesOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  std::unique_ptr<scalekit::core::executor> make() { return scalekit::core::make_executor(GetParam(), {.jobs = 2}); }
};

// Arguments, a file and the seed list, in that order, in small batches: every
// good number gets its line in input order, every bad one a message that names
// it, and the report counts both.
TEST_P(PrimesOnEveryExecutor, CheckPrintsEveryNumberInInputOrderAndNamesBadOnes) {
  scalekit::testing::temp_dir dir("primes-job");
  std::ofstream(dir / "n.txt") << "7\n\nseven\n8\n-1\n";
  options o;
  o.numbers = {"2", "abc", "99999999999999999999", "4"};
  o.file = dir / "n.txt";
  o.seed_list = true;
  o.batch = 7;
  auto ex = make();
  collecting_observer obs;
  auto r = check(o, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  std::string expect = "2 is prime\n4 is not prime\n7 is prime\n8 is not prime\n";
  std::uint64_t seed_primes = 0;
  for (u64 n : seed_list()) {
    expect += check_line(n, is_prime_fast(n)) + "\n";
    seed_primes += is_prime_fast(n);
  }
  EXPECT_EQ(obs.text(), expect);
  EXPECT_EQ(obs.messages(), (std::vector<std::string>{
                                "argument 2: 'abc': not a number",
                                "argument 3: '99999999999999999999': larger than 18446744073709551615 (2^64-1)",
                                dir / "n.txt:3: 'seven': not a number",
                                dir / "n.txt:5: '-1': negative numbers are not allowed",
                            }));
  EXPECT_EQ(r->job, "primes check");
  EXPECT_EQ(r->failures, 4u);
  EXPECT_EQ(field<std::uint64_t>(*r, "numbers"), 1004u);
  EXPECT_EQ(field<std::uint64_t>(*r, "prime"), seed_primes + 2);
  EXPECT_EQ(field<std::uint64_t>(*r, "bad_inputs"), 4u);
  EXPECT_EQ(field<std::uint64_t>(*r, "failed"), 0u);
  EXPECT_EQ(field<std::string>(*r, "algorithm"), "fast");
  EXPECT_EQ(field<std::string>(*r, "executor"), std::string(to_string(GetParam())));
  EXPECT_EQ(field<std::uint64_t>(*r, "tasks"), (1004u + 6) / 7);
  EXPECT_EQ(obs.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{1004, 1004}));
}

// Random numbers are the same for the same seed, and both algorithms factor
// them alike, into factors that multiply back.
TEST_P(PrimesOnEveryExecutor, FactorGivesTheSameLinesWithEitherAlgorithm) {
  options o;
  o.random_count = 500;
  o.random_min = 2;
  o.random_max = 1ULL << 34;  // trial division stays quick
  o.random_seed = 5;
  auto ex = make();
  collecting_observer fast, trial;
  auto rf = factor(o, *ex, fast);
  ASSERT_TRUE(rf.ok()) << rf.error().to_string();
  o.alg = algorithm::trial;
  auto rt = factor(o, *ex, trial);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  EXPECT_EQ(fast.text(), trial.text());
  EXPECT_EQ(count_lines(fast.text()), 500u);
  EXPECT_EQ(rf->job, "primes factor");
  EXPECT_EQ(rf->failures, 0u);
  EXPECT_EQ(field<std::uint64_t>(*rf, "prime"), field<std::uint64_t>(*rt, "prime"));
  EXPECT_EQ(field<std::string>(*rt, "algorithm"), "trial");
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<u64> dist(2, 1ULL << 34);
  std::istringstream lines(fast.text());
  std::string line;
  for (int i = 0; i < 500 && std::getline(lines, line); ++i) {
    const u64 n = dist(rng);
    ASSERT_EQ(line, factor_line(n, factor_fast(n))) << i;
  }
}

// A stop request in the middle of a long trial-division run (minutes of
// work) ends it promptly: the executor is cancelled, the calls left end
// without a message each, and the job says it was cancelled.
TEST_P(PrimesOnEveryExecutor, AStopRequestEndsALongCheckPromptly) {
  options o;
  o.random_count = 2'000'000;
  o.random_min = 1ULL << 40;
  o.random_max = 1ULL << 50;  // up to 2^24 divisions for a prime
  o.alg = algorithm::trial;
  o.batch = 64;
  auto ex = make();
  std::stop_source source;
  collecting_observer obs(source.get_token());
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    source.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = check(o, *ex, obs);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled) << r.error().to_string();
  EXPECT_TRUE(obs.messages().empty()) << obs.messages().front();
  EXPECT_LT(count_lines(obs.text()), 2'000'000u);
  // Within a second of the request on an idle machine; the margin is for a busy one.
  EXPECT_LT(took, std::chrono::milliseconds(2300));
}

// A stop requested before the start: nothing is printed, the job is cancelled.
TEST_P(PrimesOnEveryExecutor, AStopBeforeTheStartPrintsNothing) {
  options o;
  o.random_count = 1000;
  auto ex = make();
  std::stop_source source;
  source.request_stop();
  collecting_observer obs(source.get_token());
  auto r = factor(o, *ex, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_EQ(obs.text(), "");
}

INSTANTIATE_TEST_SUITE_P(Executors, PrimesOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(to_string(p.param)); });

// Options the job refuses, with the words the command line prints.
TEST(PrimesJob, BadOptionsAreInvalidArguments) {
  auto ex = scalekit::core::make_executor(executor_kind::serial);
  collecting_observer obs;
  auto none = check(options{}, *ex, obs);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(none.error().message(), "give numbers, --file F or --seed-list");
  EXPECT_EQ(factor(options{}, *ex, obs).error().message(), "give numbers, --file F or --random COUNT");
  options reversed;
  reversed.random_count = 3;
  reversed.random_min = 10;
  reversed.random_max = 9;
  EXPECT_EQ(check(reversed, *ex, obs).error().code(), scalekit::status_code::invalid_argument);
  options missing;
  missing.file = "/nonexistent/numbers";
  auto r = factor(missing, *ex, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::not_found);
  EXPECT_EQ(r.error().message(), "cannot read '/nonexistent/numbers': no such file or directory");
  EXPECT_EQ(obs.text(), "");
}

int main(int argc, char** argv) {
  register_tasks();  // worker processes of the process executor run the job's tasks
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
