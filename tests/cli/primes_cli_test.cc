// Integration tests of `scalekit primes`: check and factor on every executor
// and algorithm, bad input, and the real peers (GNU factor, the seed's Python).

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "cli_helpers.h"

using scalekit::testing::lines;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::temp_dir;

TEST(CliPrimes, SeedListSameOnEveryExecutorAndAlgorithm) {
  std::string reference;
  for (const char* ex : {"serial", "threads", "processes", "openmp"}) {
    for (const char* alg : {"fast", "trial"}) {
      auto r = run_scalekit(std::string("primes check --seed-list -j 2 --executor ") + ex + " --algorithm " + alg);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(lines(r.out), 1000u);
      EXPECT_EQ(lines(r.err), 1u) << r.err;  // the summary
      if (reference.empty()) reference = r.out;
      EXPECT_EQ(r.out, reference) << ex << " " << alg;
    }
  }
  EXPECT_EQ(reference.substr(0, reference.find('\n')), "1297337 is prime");
  EXPECT_NE(reference.find("1099726899285419 is not prime\n"), std::string::npos);  // 3306091 * 332636609
}

TEST(CliPrimes, BadInputsGetOneLineEachAndTheRestGoOn) {
  temp_dir dir("cli-primes");
  std::ofstream(dir / "n.txt") << "7\n\nseven\n8\n-1\n";
  auto r = run_scalekit("primes check 2 abc 99999999999999999999 4 --file " + (dir / "n.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "2 is prime\n4 is not prime\n7 is prime\n8 is not prime\n");
  EXPECT_NE(r.err.find("argument 2: 'abc': not a number"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("argument 3: '99999999999999999999': larger than"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("n.txt:3: 'seven': not a number"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("n.txt:5: '-1': negative"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 bad inputs"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 5u) << r.err;  // four errors and the summary
}

TEST(CliPrimes, NoInputIsBadUsage) {
  auto r = run_scalekit("primes check");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u);
  EXPECT_EQ(run_scalekit("primes factor --file /nonexistent").exit_code, 1);
}

// Real peer: GNU factor, on the same random 64-bit numbers.
TEST(CliPrimes, FactorAgreesWithGnuFactor) {
  temp_dir dir("cli-factor");
  auto r =
      run_scalekit("primes factor --random 3000 --min 2 --max 18446744073709551615 --seed 11 --executor processes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Turn "The factors of N are [a, b]" into GNU's "N: a b".
  std::istringstream in(r.out);
  std::string ours, numbers;
  for (std::string line; std::getline(in, line);) {
    const auto of = line.find("of ") + 3, are = line.find(" are [");
    const std::string n = line.substr(of, are - of);
    std::string list = line.substr(are + 6, line.size() - are - 7);
    std::erase(list, ',');
    ours += n + ": " + list + "\n";
    numbers += n + "\n";
  }
  std::ofstream(dir / "numbers") << numbers;
  auto gnu = run_command("sh -c 'factor < " + (dir / "numbers") + "'");
  ASSERT_EQ(gnu.exit_code, 0) << gnu.err;
  ASSERT_EQ(lines(gnu.out), 3000u);
  std::istringstream a(ours), b(gnu.out);
  for (std::string x, y; std::getline(a, x) && std::getline(b, y);) ASSERT_EQ(x, y);
}

// Real peer: the seed's own prime_factor in Python, same numbers, same output.
TEST(CliPrimes, FactorPrintsWhatTheSeedPrints) {
  const std::string nums = "2 4 12 97 1001 65536 99991 123456 5000011";
  auto py = run_command("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/prime_factor.py " + nums);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  for (const char* alg : {"fast", "trial"}) {
    auto r = run_scalekit(std::string("primes factor --algorithm ") + alg + " " + nums);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, py.out) << alg;
  }
}

// A stop signal during a long trial-division check (while the numbers are
// gathered, and while they are checked): back to the shell within a second,
// dead of the signal, with no worker process left behind.
TEST(CliPrimes, AStopSignalEndsALongTrialCheckWithinASecond) {
  struct stop_case {
    const char* signal;
    int number;
    const char* executor;
    const char* after;  // seconds before the signal
  };
  for (const stop_case c : {stop_case{"INT", 2, "threads", "0.3"}, stop_case{"TERM", 15, "processes", "4"}}) {
    temp_dir dir("cli-primes-stop");
    // With job control on (set -m) the job gets its own process group and
    // keeps SIGINT's default disposition, as in an interactive shell.
    const std::string script = "set -m\n" + scalekit::testing::bin +
                               " -q primes check --random 100000000 --algorithm trial -j 2 --executor " + c.executor +
                               " > /dev/null &\npid=$!\nsleep " + c.after + "\npgrep -g $pid > " + dir / "members" +
                               "\nstart=$(date +%s%N); kill -" + c.signal +
                               " -- -$pid; wait $pid; status=$?; end=$(date +%s%N)\n"
                               "echo $status $(( (end - start) / 1000000 ))";
    std::ofstream(dir / "stop.sh") << script << "\n";
    auto r = run_command("bash " + (dir / "stop.sh"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream out(r.out);
    int status = 0;
    long ms = 0;
    out >> status >> ms;
    EXPECT_EQ(status, 128 + c.number) << c.signal << ": " << r.out;
    // A second in the release build; under a sanitizer the exit itself (its reports, the
    // shadow memory unmapped) is slower, not the stop.
    EXPECT_LT(ms, 1000 * scalekit::testing::sanitizer_slowdown) << c.signal << " took " << ms << " ms";
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the workers' ends are reaped
    std::ifstream members(dir / "members");
    for (std::string pid; std::getline(members, pid);) {
      std::ifstream stat("/proc/" + pid + "/stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const auto close = text.rfind(')');
      const bool alive = close != std::string::npos && text.size() > close + 2 && text[close + 2] != 'Z';
      EXPECT_FALSE(alive) << "process " << pid << " outlived " << c.signal << ": " << text;
    }
  }
}
