// Integration tests of `scalekit mandelbrot`: the real binary on every
// executor against the seed's image and its Python program; bad input,
// unwritable output and Ctrl-C.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "sha256.h"

using scalekit::testing::bin;
using scalekit::testing::lines;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::sha256_of;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

const char* seed_640 = "18dc0eb21ee0c7a0bd53e2670b7f3f613fe02964d7d53fbcc4dbfbc0ce38cd03";

}  // namespace

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
