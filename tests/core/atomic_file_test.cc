#include "scalekit/core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using scalekit::core::atomic_file;
namespace fs = std::filesystem;

namespace {
fs::path fresh_dir() {
  const fs::path d = fs::temp_directory_path() / ("scalekit-af-" + std::to_string(::getpid()) + "-" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::size_t entries(const fs::path& d) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(d)) ++n;
  return n;
}
}  // namespace

TEST(AtomicFile, CommitReplacesTheTargetWithUsualPermissions) {
  const auto dir = fresh_dir();
  std::ofstream(dir / "out") << "old\n";
  auto f = atomic_file::create((dir / "out").string());
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->write("new\n", 4).ok());
  EXPECT_EQ(entries(dir), 2u);  // the target and the hidden temporary
  ASSERT_TRUE(f->commit().ok());
  std::stringstream ss;
  ss << std::ifstream(dir / "out").rdbuf();
  EXPECT_EQ(ss.str(), "new\n");
  EXPECT_EQ(entries(dir), 1u);
  struct stat st;
  ASSERT_EQ(::stat((dir / "out").c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
  fs::remove_all(dir);
}

TEST(AtomicFile, WithoutCommitNothingChanges) {
  const auto dir = fresh_dir();
  std::ofstream(dir / "out") << "old\n";
  {
    auto f = atomic_file::create((dir / "out").string());
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write("partial", 7).ok());
  }
  std::stringstream ss;
  ss << std::ifstream(dir / "out").rdbuf();
  EXPECT_EQ(ss.str(), "old\n");
  EXPECT_EQ(entries(dir), 1u);
  auto bad = atomic_file::create((dir / "missing" / "out").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("cannot write '"), std::string::npos);
  fs::remove_all(dir);
}

// A process dying of a signal removes its temporaries, and from then on no
// thread can make a new one that would outlive it. (In a child: the removal
// is final for the process.)
TEST(AtomicFile, AfterTheRemovalForADyingProcessNoTemporaryIsMade) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes the binary: no fork of a threaded process
  EXPECT_EXIT(
      {
        const auto dir = fresh_dir();
        auto before = atomic_file::create((dir / "a").string());
        scalekit::core::remove_temporary_files();
        auto after = atomic_file::create((dir / "b").string());
        const bool ok =
            before.ok() && !after.ok() && after.error().code() == scalekit::status_code::cancelled && entries(dir) == 0;
        fs::remove_all(dir);
        ::_exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// In place: the bytes go straight to the target, which is whole once
// committed (usual permissions, nothing else in the directory) and gone if it
// never is, or if the process dies of a signal first.
TEST(AtomicFile, InPlaceIsWholeOrAbsent) {
  const auto dir = fresh_dir();
  {
    auto f = atomic_file::create((dir / "kept").string(), atomic_file::mode::in_place);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write("whole\n", 6).ok());
    EXPECT_EQ(entries(dir), 1u);  // no temporary: the target itself
    ASSERT_TRUE(f->commit().ok());
  }
  std::stringstream ss;
  ss << std::ifstream(dir / "kept").rdbuf();
  EXPECT_EQ(ss.str(), "whole\n");
  struct stat st;
  ASSERT_EQ(::stat((dir / "kept").c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
  {
    auto f = atomic_file::create((dir / "dropped").string(), atomic_file::mode::in_place);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write("partial", 7).ok());
  }
  EXPECT_FALSE(fs::exists(dir / "dropped"));
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto f = atomic_file::create((dir / "dying").string(), atomic_file::mode::in_place);
        (void)f->write("partial", 7);
        scalekit::core::remove_temporary_files();  // what a second stop signal does before the process dies
        ::_exit(fs::exists(dir / "dying") ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(entries(dir), 1u);
  fs::remove_all(dir);
}

// In place, a FIFO, a device or a symbolic link at the target's name is never
// written through (a FIFO would block the open for a reader, a link would
// write its target): it is replaced, as mode::replace replaces it.
TEST(AtomicFile, InPlaceReplacesWhatIsNotARegularFile) {
  const auto dir = fresh_dir();
  std::ofstream(dir / "victim") << "keep me\n";
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  fs::create_symlink(dir / "victim", dir / "link");
  for (const char* name : {"fifo", "link"}) {
    auto f = atomic_file::create((dir / name).string(), atomic_file::mode::in_place);
    ASSERT_TRUE(f.ok()) << name;
    ASSERT_TRUE(f->write("new\n", 4).ok());
    ASSERT_TRUE(f->commit().ok());
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir / name))) << name;
    std::stringstream ss;
    ss << std::ifstream(dir / name).rdbuf();
    EXPECT_EQ(ss.str(), "new\n");
  }
  std::stringstream victim;
  victim << std::ifstream(dir / "victim").rdbuf();
  EXPECT_EQ(victim.str(), "keep me\n");
  EXPECT_EQ(entries(dir), 3u);  // no temporary left
}
