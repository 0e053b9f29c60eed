// Standard output that cannot be written (issue 16, second round): a full
// disk (/dev/full) or a reader that went away (`| head -1`). The first failed
// write stops the job: a full disk is one line on stderr and status 1, a
// closed pipe is quiet with status 141 (as a tool that SIGPIPE killed), and
// neither goes on computing results nobody can receive.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "cli_helpers.h"

using namespace std::chrono_literals;
using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::temp_dir;

namespace {

// `scalekit ARGS`, its stdout on /dev/full (the helper's own redirection
// comes after, on the group, and does not reach inside it).
scalekit::testing::command_result run_to_full_disk(const std::string& args) {
  return run_command("{ " + bin + " " + args + " >/dev/full; }");
}

// `scalekit ARGS | head -1`: the status of scalekit (not of head), as "rc=N"
// at the end of stderr; stdout holds head's one line.
scalekit::testing::command_result run_into_head(const std::string& args, const std::string& stdin_cmd = "") {
  const std::string feed = stdin_cmd.empty() ? "" : stdin_cmd + " | ";
  return run_command("{ " + feed + "{ " + bin + " " + args + "; echo rc=$? >&2; } | head -1; }");
}

}  // namespace

TEST(HostileStdout, AFullDiskIsAnErrorForEveryCommand) {
  temp_dir d("stdout-full");
  std::ofstream(d / "needle.txt") << "x\n";
  for (const std::string& args : std::vector<std::string>{
           "primes check 7 8 9",
           "primes factor 12 15",
           "factorial 3 5",
           "find needle " + d.path.string(),
           "coop 3",
           "--json primes check 7",
           "search " + d.path.string() + " x",
       }) {
    const auto r = run_to_full_disk(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("cannot write to standard output: No space left on device"), std::string::npos) << args << "\n"
                                                                                                         << r.err;
  }
}

TEST(HostileStdout, AClosedPipeStopsTheJobQuietlyWithStatus141) {
  // Unbounded in practice (a day of work): only the stop can end it in time.
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_into_head("primes check --random 100000000 --min 1000000000000 --max 2000000000000 -j 2");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_NE(r.out.find(" prime"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("rc=141"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot write"), std::string::npos) << r.err;  // quiet, as Unix tools
  EXPECT_LT(took, 60s);                                               // promptness, generously
}

TEST(HostileStdout, AClosedPipeStopsSearchReadingQueries) {
  temp_dir d("stdout-pipe-search");
  std::ofstream(d / "a.txt") << "hi there\n";
  // Endless queries on stdin: only the stop ends it.
  const auto r = run_into_head("search " + d.path.string() + " -j 1 --executor serial", "yes hi");
  EXPECT_EQ(r.out, "hi there\n");
  EXPECT_NE(r.err.find("rc=141"), std::string::npos) << r.err;
}
