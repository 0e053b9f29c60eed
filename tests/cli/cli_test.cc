// Integration tests: the real scalekit binary, as a user runs it.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "run_command.h"
#include "server_process.h"

using scalekit::testing::command_result;
using scalekit::testing::run_command;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

const std::string bin = SCALEKIT_BINARY;

command_result run_scalekit(const std::string& args) { return run_command(bin + " " + args); }

std::string sha256_of(const std::string& path) {
  auto r = run_command("sha256sum " + path);
  return r.out.substr(0, 64);
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

const char* seed_640 = "18dc0eb21ee0c7a0bd53e2670b7f3f613fe02964d7d53fbcc4dbfbc0ce38cd03";

}  // namespace

TEST(Cli, VersionAndHelp) {
  auto v = run_scalekit("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("scalekit ", 0), 0u) << v.out;
  auto h = run_scalekit("mandelbrot --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--executor"), std::string::npos);
  auto none = run_scalekit("");
  EXPECT_EQ(none.exit_code, 2);
  auto unknown = run_scalekit("no-such-command");
  EXPECT_EQ(unknown.exit_code, 2);
}

class CliMandelbrot : public ::testing::TestWithParam<std::string> {};

// Every executor writes byte-identical pixels, equal to the seed's image.
TEST_P(CliMandelbrot, EveryExecutorDrawsTheSeedImage) {
  temp_dir dir("cli-mb");
  for (const char* kernel : {"simd", "scalar"}) {
    const std::string out = dir / (GetParam() + "-" + kernel + ".rgb");
    auto r = run_scalekit("mandelbrot -o " + out + " --executor " + GetParam() + " -j 2 --kernel " + kernel);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");                  // results are files; stdout stays clean for pipes
    EXPECT_EQ(lines(r.err), 1u) << r.err;  // the one-line summary
    EXPECT_NE(r.err.find("pixels/s"), std::string::npos) << r.err;
    EXPECT_EQ(sha256_of(out), seed_640) << GetParam() << " " << kernel;
  }
}

INSTANTIATE_TEST_SUITE_P(Executors, CliMandelbrot, ::testing::Values("serial", "threads", "processes", "openmp"));

TEST(Cli, MandelbrotWritesAPngThePythonImageLibraryReads) {
  temp_dir dir("cli-png");
  auto r = run_scalekit("mandelbrot -W 64 -H 48 -o " + (dir / "m.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto py = run_command(
      "/usr/bin/python3 -c \"import hashlib,sys; from PIL import Image; im=Image.open(sys.argv[1]); "
      "print(im.mode, im.size[0], im.size[1], hashlib.sha256(im.tobytes()).hexdigest())\" " +
      (dir / "m.png"));
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "RGB 64 48 9d5515d4cca99a230d76ba7f6b3877573e1d4a7bcd9ad0aadd7fead1f2486b43\n");
}

// The real peer: the seed's own Python program, on the same machine, same size.
TEST(Cli, MandelbrotMatchesTheSeedPythonProgram) {
  temp_dir dir("cli-seed");
  for (const char* size : {"-W 97 -H 61 -n 300", "-W 160 -H 120 -n 1000"}) {
    auto py = run_command(std::string("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/mandelbrot.py ") + size + " -o " +
                          (dir / "py.rgb"));
    ASSERT_EQ(py.exit_code, 0) << py.err;
    auto r = run_scalekit(std::string("mandelbrot ") + size + " -o " + (dir / "sk.rgb"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(slurp(dir / "sk.rgb"), slurp(dir / "py.rgb")) << size;
  }
}

TEST(Cli, MandelbrotJsonSummary) {
  temp_dir dir("cli-json");
  auto r = run_scalekit("--json mandelbrot -W 100 -H 50 -o " + (dir / "m.png") + " --executor serial");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["job"], "mandelbrot");
  EXPECT_EQ(j["width"], 100);
  EXPECT_EQ(j["executor"], "serial");
  EXPECT_GT(j["pixels_per_s"].template get<double>(), 0.0);
}

struct bad_case {
  const char* args;
  int exit_code;
  const char* message;
};

class CliMandelbrotBadInput : public ::testing::TestWithParam<bad_case> {};

// Each bad input: one line on stderr naming the problem, the contract's exit
// status, and no output file (not even a partial one).
TEST_P(CliMandelbrotBadInput, OneLineErrorAndNoFile) {
  temp_dir dir("cli-bad");
  const std::string out = dir / "m.png";
  auto r = run_scalekit(std::string("mandelbrot -o ") + out + " " + GetParam().args);
  EXPECT_EQ(r.exit_code, GetParam().exit_code) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(GetParam().message), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

INSTANTIATE_TEST_SUITE_P(Cases, CliMandelbrotBadInput,
                         ::testing::Values(bad_case{"-W 0", 2, "width (-W) must be at least 1"},
                                           bad_case{"-H -1", 2, "height (-H) must be at least 1"},
                                           bad_case{"-n abc", 2, "niter"},
                                           bad_case{"-W 1000000 -H 1000000", 2, "the limit is"},
                                           bad_case{"-W 99999999", 2, "too large"},
                                           bad_case{"--executor gpu", 2, "gpu"}, bad_case{"-j 0", 2, "jobs"}));

TEST(Cli, MandelbrotUnwritableOutputFailsWithoutPartialFile) {
  temp_dir dir("cli-unwritable");
  // The parent is a regular file: unwritable even for root.
  std::ofstream(dir / "file") << "x";
  for (const std::string& out : {dir / "file/m.png", dir / "missing/m.png", std::string("/proc/m.png")}) {
    auto r = run_scalekit("mandelbrot -W 20 -H 20 -o " + out);
    EXPECT_EQ(r.exit_code, 1) << out << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
  }
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path)) ++files;
  EXPECT_EQ(files, 1u);  // only "file": no temporary left behind
}

// One Ctrl-C (SIGINT to the foreground process group, as a terminal sends it)
// during a long render on worker processes: back to the shell within a second,
// no worker left behind, no temporary output file left behind.
TEST(Cli, CtrlCDuringAProcessRenderLeavesNothingBehind) {
  temp_dir dir("cli-sigint");
  const std::string out = dir / "big.png";
  const std::string pids = dir / "pids";
  // With job control on (set -m) the job gets its own process group and keeps
  // SIGINT's default disposition, as in an interactive shell; the script waits
  // until the workers exist, then interrupts the whole group.
  const std::string script =
      "set -m\n" + bin + " -q mandelbrot -W 6000 -H 6000 -n 20000 --no-shortcut --executor processes -j 2 -o " + out +
      " &\npid=$!\n"
      "for i in $(seq 100); do [ $(pgrep -g $pid | wc -l) -ge 3 ] && break; sleep 0.05; done\n"
      "pgrep -g $pid > " +
      dir / "members" +
      "\n"
      "start=$(date +%s%N); kill -INT -- -$pid; wait $pid; end=$(date +%s%N)\n"
      "echo $(( (end - start) / 1000000 ))";
  std::ofstream(dir / "interrupt.sh") << script << "\n";
  auto r = run_command("bash " + (dir / "interrupt.sh"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const long ms = std::stol(r.out);
  EXPECT_LT(ms, 1000) << "took " << ms << " ms to return";
  const std::string members = slurp(dir / "members");
  EXPECT_GE(lines(members), 3u) << "master and two workers should have been running: " << members;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::istringstream in(members);
  for (std::string pid; std::getline(in, pid);) {
    const std::string stat = slurp("/proc/" + pid + "/stat");
    const auto close = stat.rfind(')');
    const bool alive = close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
    EXPECT_FALSE(alive) << "process " << pid << " outlived Ctrl-C: " << stat;
  }
  for (auto& e : std::filesystem::directory_iterator(dir.path)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "pids" || name == "members" || name == "interrupt.sh") << "left behind: " << name;
  }
}

// ---- primes ----

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

// ---- burn ----

TEST(CliBurn, EveryWorkerReportsThenTheTotal) {
  for (const char* ex : {"threads", "processes"}) {
    auto r = run_scalekit(std::string("burn --iterations 50000000 -j 2 --executor ") + ex);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(r.out), 3u) << r.out;
    EXPECT_NE(r.out.find("work took "), std::string::npos);
    std::istringstream in(r.out);
    std::string l1, l2;
    std::getline(in, l1);
    std::getline(in, l2);
    const auto pid = [](const std::string& l) { return l.substr(8, l.find(' ', 8) - 8); };
    if (std::string(ex) == "threads") {
      EXPECT_EQ(pid(l1), pid(l2)) << "threads share a process";
    } else {
      EXPECT_NE(pid(l1), pid(l2)) << "each worker is its own process";
    }
  }
}

// ---- numbers ----

TEST(CliNumbers, SortEqualsGnuSortOnEveryExecutorAndMethod) {
  temp_dir dir("cli-numbers");
  auto gen = run_scalekit("numbers gen --dir " + (dir / "n") + " --files 300 --seed 3");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto ref = run_command("sh -c 'sort -n " + (dir / "n") + "/*.txt'");
  ASSERT_EQ(ref.exit_code, 0);
  ASSERT_EQ(lines(ref.out), 30000u);
  for (const char* ex : {"serial", "threads", "processes", "openmp"}) {
    for (const char* method : {"counter", "memory"}) {
      const std::string out = dir / (std::string(ex) + "-" + method + ".txt");
      auto r = run_scalekit("numbers sort --dir " + (dir / "n") + " --files 300 -o " + out + " --executor " + ex +
                            " --method " + method + " --files-per-task 7");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_TRUE(slurp(out) == ref.out) << ex << " " << method;
    }
  }
}

TEST(CliNumbers, GenIsDeterministicForASeedOnAnyExecutor) {
  temp_dir dir("cli-gen");
  ASSERT_EQ(run_scalekit("numbers gen --dir " + (dir / "a") + " --files 50 --seed 9 --executor serial").exit_code, 0);
  ASSERT_EQ(run_scalekit("numbers gen --dir " + (dir / "b") + " --files 50 --seed 9 --executor processes").exit_code,
            0);
  ASSERT_EQ(run_scalekit("numbers gen --dir " + (dir / "c") + " --files 50 --seed 10").exit_code, 0);
  EXPECT_EQ(run_command("diff -r " + (dir / "a") + " " + (dir / "b")).exit_code, 0);
  EXPECT_NE(run_command("diff -r " + (dir / "a") + " " + (dir / "c")).exit_code, 0);
  EXPECT_EQ(lines(slurp(dir / "a/numbers_49.txt")), 100u);
}

TEST(CliNumbers, BadInputsFailTheRunAndLeaveTheOldOutputAlone) {
  temp_dir dir("cli-badnum");
  ASSERT_EQ(run_scalekit("numbers gen --dir " + (dir / "n") + " --files 20").exit_code, 0);
  std::ofstream(dir / "n/numbers_3.txt", std::ios::app) << "12x\n";
  std::filesystem::remove(dir / "n/numbers_11.txt");
  std::ofstream(dir / "sorted.txt") << "previous good output\n";
  auto r = run_scalekit("numbers sort --dir " + (dir / "n") + " --files 20 -o " + (dir / "sorted.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("numbers_3.txt:101: '12x': not a number"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("numbers_11.txt: No such file or directory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 bad inputs"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir / "sorted.txt"), "previous good output\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path)) ++entries;
  EXPECT_EQ(entries, 2u);  // n/ and sorted.txt: no temporary left
}

TEST(CliNumbers, UnwritableOutputFailsBeforeTheWork) {
  temp_dir dir("cli-numout");
  ASSERT_EQ(run_scalekit("numbers gen --dir " + (dir / "n") + " --files 5").exit_code, 0);
  auto r = run_scalekit("numbers sort --dir " + (dir / "n") + " --files 5 -o " + (dir / "missing/out.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
  EXPECT_EQ(run_scalekit("numbers sort --files 0").exit_code, 2);
}

// ---- factorial ----

// Real peer: Python's math.factorial, for the seed's range and for 1000!.
TEST(CliFactorial, ExactAndPrintedAsEachCompletes) {
  for (const char* ex : {"threads", "processes"}) {
    auto r = run_scalekit(std::string("factorial --executor ") + ex);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(r.out), 11u);
    EXPECT_NE(r.out.find("Factorial of 10 is 3628800\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Factorial of 20 is 2432902008176640000\n"), std::string::npos) << r.out;
  }
  auto ours = run_scalekit("factorial 1000 1000");
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto py = run_command("/usr/bin/python3 -c 'import math; print(\"Factorial of 1000 is\", math.factorial(1000))'");
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_TRUE(ours.out == py.out) << "1000! differs from Python's";
  EXPECT_EQ(run_scalekit("factorial 20 10").exit_code, 2);
  EXPECT_EQ(run_scalekit("factorial 5").exit_code, 2);
}

// ---- coop, sleepers ----

TEST(CliCoop, LastPrimeAndTheSwitchingTrace) {
  auto r = run_scalekit("coop 100");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "Last prime=> 97");
  EXPECT_NE(r.out.find("Time taken=> "), std::string::npos);
  auto t = run_scalekit("coop 10 --trace");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string start =
      "Switching to task square_mapper\nResult=> 1\nSwitching to task prime_filter\nResult=> 2\n"
      "Switching to task square_mapper\n";
  EXPECT_EQ(t.out.substr(0, start.size()), start);
  EXPECT_NE(t.out.find("Last prime=> 7\n"), std::string::npos);
}

TEST(CliSleepers, OutputInterleavesAsInTheSeed) {
  auto r = run_scalekit("sleepers --max-delay 0.3 --main-sleep 0.1 --step 0.005 --from 10 --to 20 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> l;
  std::istringstream in(r.out);
  for (std::string s; std::getline(in, s);) l.push_back(s);
  ASSERT_GE(l.size(), 14u);
  EXPECT_EQ(l[0], "Creating five tasks");
  EXPECT_EQ(l[1], "Sleeping after starting five tasks");  // spawned tasks start after the main task sleeps
  EXPECT_NE(l[2].find("0 sleeps for "), std::string::npos) << l[2];
  auto pos = [&](const std::string& s) { return std::find(l.begin(), l.end(), s) - l.begin(); };
  for (int i = 0; i < 5; ++i) EXPECT_LT(pos(std::to_string(i) + " awakens"), pos("Done five tasks"));
  EXPECT_LT(pos("Waking and waiting for five tasks"), pos("Done five tasks"));
  // The gathered coroutines alternate, then the gathered result.
  const auto p = pos("Prime=> 11");
  ASSERT_LT(p + 1, static_cast<long>(l.size()));
  EXPECT_EQ(l[static_cast<std::size_t>(p) + 1], "Square=> 100");
  EXPECT_EQ(l.back(), "Result=> [(11, 13, 17, 19), [100, 121, 144, 169, 196, 225, 256, 289, 324, 361, 400]]");
}

// ---- find ----

namespace {
std::string sorted_lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  std::sort(v.begin(), v.end());
  std::string out;
  for (auto& l : v) out += l + "\n";
  return out;
}
}  // namespace

// Real peer: GNU find, on the same tree (order is free, so both are sorted).
TEST(CliFind, SameAnswerAsGnuFind) {
  temp_dir dir("cli-find");
  for (int a = 0; a < 5; ++a)
    for (int b = 0; b < 20; ++b) {
      const auto d = dir.path / ("d" + std::to_string(a)) / ("sub" + std::to_string(b));
      std::filesystem::create_directories(d);
      for (int f = 0; f < 10; ++f) std::ofstream(d / ("file" + std::to_string(f) + (f % 3 ? ".txt" : ".py")));
    }
  std::filesystem::create_directory_symlink(dir.path, dir.path / "d0" / "loop");  // never followed
  for (const char* q : {".py", "sub1", "d3/sub7/file2"}) {
    auto ours = run_scalekit(std::string("find ") + q + " " + dir.path.string() + " -j 2");
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    auto gnu = run_command("find " + dir.path.string() + " -mindepth 1 -path '*" + q + "*'");
    ASSERT_EQ(gnu.exit_code, 0) << gnu.err;
    EXPECT_TRUE(sorted_lines(ours.out) == sorted_lines(gnu.out)) << q;
    EXPECT_GT(lines(ours.out), 0u) << q;
  }
  EXPECT_EQ(run_scalekit("find x " + (dir / "nonexistent")).exit_code, 1);
  EXPECT_EQ(run_scalekit("find").exit_code, 2);
}

// An unreadable directory is reported and skipped; the walk goes on. Run as
// an unprivileged user (root reads everything).
TEST(CliFind, UnreadableDirectoriesAreReportedAndSkipped) {
  temp_dir dir("cli-find-perm");
  std::filesystem::permissions(dir.path, std::filesystem::perms::all);
  std::filesystem::create_directories(dir.path / "open");
  std::filesystem::create_directories(dir.path / "closed" / "inner");
  std::ofstream(dir.path / "open" / "a.txt");
  std::ofstream(dir.path / "closed" / "inner" / "b.txt");
  std::filesystem::permissions(dir.path / "closed", std::filesystem::perms::none);
  auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + bin + " find .txt " + dir.path.string());
  std::filesystem::permissions(dir.path / "closed", std::filesystem::perms::owner_all);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, (dir.path / "open" / "a.txt").string() + "\n");
  EXPECT_NE(r.err.find("cannot read '" + (dir.path / "closed").string() + "': Permission denied"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 unreadable"), std::string::npos) << r.err;
}

// ---- sort-service ----

namespace {
// A sort-service server on a free port for the duration of a test.
struct sort_server : scalekit::testing::server_process {
  explicit sort_server(const std::string& extra = "")
      : server_process(bin, "sort-service serve " + extra, "cli-sort") {}
  command_result client(const std::string& args) const {
    return run_command("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../sort_client.py " + port() + " " + args);
  }
};
}  // namespace

// Real peer: a Python client speaking the seed's protocol.
TEST(CliSortService, SortsForAPythonClientAndSurvivesBadClients) {
  sort_server server("--max-bytes 100000 --read-timeout 2");
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("random 1000").out, "OK\n");
  EXPECT_EQ(server.client("raw '[3, -1, 2]'").out, "[-1, 2, 3]\n");
  EXPECT_EQ(server.client("raw '[]'").out, "[]\n");
  EXPECT_EQ(server.client("raw '[1, 2.5]'").out, "{\"error\": \"element 1 is not an integer\"}\n");
  EXPECT_EQ(server.client("raw '[1, \"x\"]'").out, "{\"error\": \"element 1 is not a number\"}\n");
  EXPECT_NE(server.client("raw 'not json'").out.find("invalid JSON"), std::string::npos);
  EXPECT_NE(server.client("raw '{}'").out.find("expected a JSON array"), std::string::npos);
  EXPECT_NE(server.client("raw '[99999999999999999999]'").out.find("error"), std::string::npos);
  EXPECT_EQ(server.client("declare 100001").out,
            "{\"error\": \"request of 100001 bytes exceeds the limit of 100000\"}\n");  // refused unread
  EXPECT_EQ(server.client("short 100 10").out, "{\"error\": \"short body: expected 100 bytes, got 10\"}\n");
  EXPECT_EQ(server.client("vanish").out, "closed\n");
  EXPECT_EQ(server.client("random 5000").out, "OK\n");  // still serving after all of that
  const std::string log = server.stop();
  EXPECT_NE(log.find("12 connections, 4 sorted, 7 error replies, 1 dropped"), std::string::npos) << log;
}

// A client that says nothing is closed after the idle timeout; one that stops
// halfway through its body gets an error reply after the read timeout.
TEST(CliSortService, IdleAndReadTimeouts) {
  sort_server server("--idle-timeout 0.3 --read-timeout 0.5");
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("idle").out, "closed\n");
  EXPECT_EQ(server.client("stall 100 10").out,
            "{\"error\": \"short body: expected 100 bytes, got too few within the read timeout\"}\n");
  EXPECT_EQ(server.client("random 10").out, "OK\n");
  const std::string log = server.stop();
  EXPECT_NE(log.find("3 connections, 1 sorted, 1 error replies, 1 dropped"), std::string::npos) << log;
}

TEST(CliSortService, CallClientAndProcessExecutor) {
  sort_server server("--executor processes -j 2");
  ASSERT_FALSE(server.port().empty());
  auto r = run_command("sh -c 'echo \"[5, 4, 3]\" | " + bin +
                       " -q sort-service call --connect 127.0.0.1:" + server.port() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[3, 4, 5]\n");
  auto bad = run_command("sh -c 'echo \"[1.5]\" | " + bin +
                         " -q sort-service call --connect 127.0.0.1:" + server.port() + "'");
  EXPECT_EQ(bad.exit_code, 1);
  server.stop();
  EXPECT_EQ(run_scalekit("sort-service call --connect 127.0.0.1:notaport").exit_code, 2);
}
