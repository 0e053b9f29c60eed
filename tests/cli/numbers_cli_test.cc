// Integration tests of `scalekit numbers`: gen and sort on every executor and
// method against GNU sort; bad input and unwritable output.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_helpers.h"

using scalekit::testing::lines;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

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
  EXPECT_NE(r.err.find("numbers_11.txt': no such file or directory"), std::string::npos) << r.err;
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
