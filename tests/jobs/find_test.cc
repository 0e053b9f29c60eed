#include "scalekit/jobs/find/find.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "run_command.h"

namespace find = scalekit::jobs::find;
namespace fs = std::filesystem;
using scalekit::core::collecting_observer;
using scalekit::core::report;
using scalekit::testing::temp_dir;

namespace {

// 3 directories of 4 subdirectories of 5 files, and a link back to the top.
void write_tree(const temp_dir& d) {
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 4; ++b) {
      const auto dir = d.path / ("d" + std::to_string(a)) / ("sub" + std::to_string(b));
      fs::create_directories(dir);
      for (int f = 0; f < 5; ++f) std::ofstream(dir / ("file" + std::to_string(f) + (f % 2 ? ".txt" : ".py")));
    }
  fs::create_directory_symlink(d.path, d.path / "d0" / "loop");  // listed, never followed
}

// What the walk must print: every path under root containing `query`
// (std::filesystem does not follow links either).
std::set<std::string> expected(const temp_dir& d, const std::string& query) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(d.path)) {
    const std::string p = e.path().string();
    if (p.find(query) != std::string::npos) out.insert(p);
  }
  return out;
}

std::set<std::string> line_set(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) EXPECT_TRUE(out.insert(line).second) << "printed twice: " << line;
  return out;
}

std::uint64_t field(const report& r, const char* key) {
  const auto* v = r.find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? std::get<std::uint64_t>(*v) : 0;
}

}  // namespace

// The walk has no executor to choose: it is parameterised by its threads.
class FindOnThreads : public ::testing::TestWithParam<std::size_t> {};

TEST_P(FindOnThreads, PrintsEveryMatchingPathOnceAndCountsThem) {
  temp_dir d("find-job");
  write_tree(d);
  for (const std::string query : {".py", "sub1", "d2/sub3/file4", "loop", "nothing like this"}) {
    collecting_observer obs;
    auto r = find::run({.query = query, .root = d.path.string(), .threads = GetParam()}, obs);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const auto want = expected(d, query);
    EXPECT_EQ(line_set(obs.text()), want) << query;
    EXPECT_TRUE(obs.messages().empty());
    EXPECT_EQ(field(*r, "matches"), want.size());
    EXPECT_EQ(field(*r, "paths"), 3u + 3 * 4 + 3 * 4 * 5 + 1);  // the link is a path too
    EXPECT_EQ(field(*r, "directories"), 1u + 3 + 3 * 4);
    EXPECT_EQ(field(*r, "unreadable"), 0u);
    EXPECT_EQ(field(*r, "jobs"), GetParam());
    EXPECT_EQ(r->failures, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, FindOnThreads, ::testing::Values(1, 2, 4));

TEST(Find, BadQueriesAndRoots) {
  temp_dir d("find-bad");
  std::ofstream(d / "plain.txt");
  collecting_observer obs;
  EXPECT_EQ(find::run({.query = "", .root = d.path.string()}, obs).error().code(),
            scalekit::status_code::invalid_argument);
  EXPECT_EQ(find::run({.query = "x", .root = d / "missing"}, obs).error().code(), scalekit::status_code::not_found);
  // Not a directory: a failed job (exit status 1), not bad usage.
  const auto file = find::run({.query = "x", .root = d / "plain.txt"}, obs);
  EXPECT_EQ(file.error().code(), scalekit::status_code::io_error);
  EXPECT_NE(file.error().message().find("is not a directory"), std::string::npos);
  EXPECT_TRUE(obs.text().empty());
}

TEST(Find, AStopRequestedEndsTheWalkAsCancelled) {
  temp_dir d("find-stop");
  write_tree(d);
  std::stop_source stop;
  stop.request_stop();
  collecting_observer obs(stop.get_token());
  auto r = find::run({.query = "file", .root = d.path.string(), .threads = 2}, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_TRUE(obs.text().empty());  // not one listing started
}

// An unreadable directory is a message and a count, and the walk goes on.
// Root reads everything, so the walk runs in a child that is not root.
TEST(Find, UnreadableDirectoriesAreMessagesAndFailures) {
  temp_dir d("find-perm");
  fs::permissions(d.path, fs::perms::all);
  fs::create_directories(d.path / "open");
  fs::create_directories(d.path / "closed" / "inner");
  std::ofstream(d.path / "open" / "a.txt");
  std::ofstream(d.path / "closed" / "inner" / "b.txt");
  fs::permissions(d.path / "closed", fs::perms::none);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(10);
    collecting_observer obs;
    auto r = find::run({.query = ".txt", .root = d.path.string(), .threads = 2}, obs);
    if (!r.ok()) ::_exit(11);
    if (obs.text() != (d.path / "open" / "a.txt").string() + "\n") ::_exit(12);
    const auto m = obs.messages();
    if (m.size() != 1 || m[0] != "cannot read '" + (d.path / "closed").string() + "': permission denied") ::_exit(13);
    if (field(*r, "unreadable") != 1 || r->failures != 1) ::_exit(14);
    ::_exit(0);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  fs::permissions(d.path / "closed", fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "10: setuid, 11: failed, 12: output, 13: messages, 14: counts";
}
