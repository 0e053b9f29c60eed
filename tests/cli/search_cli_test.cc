// Integration tests of `scalekit search`: the real binary against grep on the
// same corpus, queries from arguments and from stdin.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::slurp;
using scalekit::testing::sorted_lines;
using scalekit::testing::temp_dir;

namespace {

// A corpus of source-like text: indentation, blank lines, words that recur.
void write_corpus(const temp_dir& d) {
  const char* words[] = {"def", "class", "return", "import", "self", "value", "print", "yield"};
  for (int dir = 0; dir < 4; ++dir) {
    std::filesystem::create_directories(d.path / ("pkg" + std::to_string(dir)));
    for (int f = 0; f < 15; ++f) {
      std::ofstream out(d.path / ("pkg" + std::to_string(dir)) / ("mod" + std::to_string(f) + ".py"));
      for (int l = 0; l < 120; ++l) {
        out << std::string(static_cast<std::size_t>((l * 7 + f) % 5) * 2, ' ') << words[(l + f + dir) % 8] << " "
            << words[(l * 3 + dir) % 8] << "_" << (l % 13) << " " << f << ((l % 4) ? "  \n" : "\n");
        if (l % 17 == 0) out << "\n";
      }
    }
  }
  std::ofstream(d / "image.bin") << std::string("def\0\1\2class", 12);
}

}  // namespace

// Real peer: grep -rhFI on the same files, its lines stripped as the seed strips them.
TEST(CliSearch, SameLinesAsGrepOnEveryExecutor) {
  temp_dir d("cli-search");
  write_corpus(d);
  for (const char* q : {"def", "class value_1", "return", "_12 1", "nothing matches this"}) {
    auto grep = run_command("sh -c \"grep -rhFI -- '" + std::string(q) + "' " + d.path.string() +
                            " | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'\"");
    for (const char* ex : {"processes", "threads", "serial"}) {
      auto r = run_command(bin + " search " + d.path.string() + " '" + q + "' -j 3 --executor " + ex);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(sorted_lines(r.out), sorted_lines(grep.out)) << q << " " << ex;
    }
  }
}

TEST(CliSearch, QueriesFromStdinAnsweredInOrder) {
  temp_dir d("cli-search-stdin");
  write_corpus(d);
  temp_dir side("cli-search-queries");  // outside the corpus
  std::ofstream(side / "queries") << "class value_1 \n\nyield_3 2\ndef print_0 0\n";
  // The same queries as arguments, one run each, concatenated: the reference.
  std::string expected;
  for (const char* q : {"class value_1 ", "yield_3 2", "def print_0 0"})
    expected += run_command(bin + " -q search " + d.path.string() + " '" + q + "'").out;
  ASSERT_FALSE(expected.empty());
  auto r = run_command("sh -c '" + bin + " --json search " + d.path.string() + " --in-flight 2 < " +
                       (side / "queries") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["queries"], 3);  // the blank line is no query
  EXPECT_EQ(j["files"], 60);
  EXPECT_EQ(j["binary_skipped"], 1);
  auto plain = run_command("sh -c '" + bin + " -q search " + d.path.string() + " -j 2 < " + (side / "queries") + "'");
  EXPECT_EQ(plain.out, expected);
}

TEST(CliSearch, PrefixesAndErrors) {
  temp_dir d("cli-search-n");
  std::filesystem::permissions(d.path, std::filesystem::perms::all);
  std::ofstream(d / "a.txt") << "first\n  second line  \nthird second\n";
  std::ofstream(d / "secret.txt") << "second secret\n";
  std::filesystem::permissions(d.path / "secret.txt", std::filesystem::perms::none);
  auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + bin + " search -H -n " +
                       d.path.string() + " second");
  std::filesystem::permissions(d.path / "secret.txt", std::filesystem::perms::owner_all);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // one file could not be read
  EXPECT_EQ(r.out, d / "a.txt" + ":2:second line\n" + d / "a.txt" + ":3:third second\n");
  EXPECT_NE(r.err.find("cannot read '" + d / "secret.txt" + "': permission denied"), std::string::npos) << r.err;
  EXPECT_EQ(run_command(bin + " search " + (d / "missing") + " x").exit_code, 1);
  EXPECT_EQ(run_command(bin + " search").exit_code, 2);
}
