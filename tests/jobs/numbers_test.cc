#include "scalekit/jobs/numbers/numbers.h"

#include <gtest/gtest.h>

using namespace scalekit::jobs::numbers;

namespace {
struct parsed {
  std::vector<std::uint32_t> values;
  std::vector<bad_input> bad;
  std::uint64_t bad_count = 0;
};
parsed parse(std::string_view text, std::uint32_t max = 100) {
  parsed p;
  parse_file(
      text, "f.txt", max, [&](std::uint32_t v) { p.values.push_back(v); }, p.bad, p.bad_count, 10);
  return p;
}
}  // namespace

TEST(Numbers, ParsesCanonicalIntegers) {
  auto p = parse("1\n20\n0\n100");  // no final newline is fine
  EXPECT_EQ(p.values, (std::vector<std::uint32_t>{1, 20, 0, 100}));
  EXPECT_EQ(p.bad_count, 0u);
}

TEST(Numbers, NamesEveryBadLine) {
  auto p = parse("5\nabc\n\n-3\n007\n101\n99999999999999999999\n7 \n8\n");
  EXPECT_EQ(p.values, (std::vector<std::uint32_t>{5, 8}));
  ASSERT_EQ(p.bad_count, 7u);
  EXPECT_EQ(p.bad[0].message, "f.txt:2: 'abc': not a number");
  EXPECT_EQ(p.bad[1].message, "f.txt:3: '': empty line, not a number");
  EXPECT_EQ(p.bad[2].message, "f.txt:4: '-3': negative numbers are not allowed");
  EXPECT_NE(p.bad[3].message.find("f.txt:5: '007': leading zero"), std::string::npos);
  EXPECT_EQ(p.bad[4].message, "f.txt:6: '101': out of range for the counter (0..100)");
  EXPECT_NE(p.bad[5].message.find("f.txt:7:"), std::string::npos);
  EXPECT_EQ(p.bad[6].message, "f.txt:8: '7 ': not a number");
}

TEST(Numbers, KeepsAtMostTheMessageLimitButCountsAll) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "x\n";
  auto p = parse(text);
  EXPECT_EQ(p.bad_count, 50u);
  EXPECT_EQ(p.bad.size(), 10u);
}

TEST(Numbers, FileValuesAreDeterministicAndInRange) {
  std::vector<std::uint32_t> a, b, c;
  file_values(7, 123, 1000, 10000, a);
  file_values(7, 123, 1000, 10000, b);
  file_values(8, 123, 1000, 10000, c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (auto v : a) {
    EXPECT_GE(v, 1u);
    EXPECT_LE(v, 10000u);
  }
}

TEST(Numbers, AppendLineAndPaths) {
  std::string s;
  append_line(s, 0);
  append_line(s, 4294967295u);
  EXPECT_EQ(s, "0\n4294967295\n");
  EXPECT_EQ(file_path("numbers", 5), "numbers/numbers_5.txt");
}
