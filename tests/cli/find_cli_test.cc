// Integration tests of `scalekit find`: the parallel walk against GNU find,
// and unreadable directories.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::lines;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::sorted_lines;
using scalekit::testing::temp_dir;

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
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the walk went on, and says it could not do it all
  EXPECT_EQ(r.out, (dir.path / "open" / "a.txt").string() + "\n");
  EXPECT_NE(r.err.find("cannot read '" + (dir.path / "closed").string() + "': permission denied"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 unreadable"), std::string::npos) << r.err;
}
