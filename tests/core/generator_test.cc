#include "scalekit/core/generator.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "scalekit/core/cooperative.h"

using namespace scalekit::core;

namespace {
generator<int> count(int n) {
  for (int i = 1; i <= n; ++i) co_yield i;
}
generator<int> doubled(generator<int> in) {
  for (int v : in) co_yield 2 * v;
}
generator<int> throws_after(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
  throw std::runtime_error("generator failed");
}
}  // namespace

TEST(Generator, YieldsInOrderAsARange) {
  std::vector<int> got;
  for (int v : doubled(count(4))) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{2, 4, 6, 8}));
}

TEST(Generator, StepByStepAndEmpty) {
  auto g = count(2);
  ASSERT_TRUE(g.next());
  EXPECT_EQ(g.value(), 1);
  ASSERT_TRUE(g.next());
  EXPECT_EQ(g.value(), 2);
  EXPECT_FALSE(g.next());
  EXPECT_FALSE(g.next());  // stays finished
  std::vector<int> none;
  for (int v : count(0)) none.push_back(v);
  EXPECT_TRUE(none.empty());
}

TEST(Generator, ExceptionsComeOutOfNext) {
  auto g = throws_after(1);
  ASSERT_TRUE(g.next());
  EXPECT_THROW(g.next(), std::runtime_error);
}

TEST(RoundRobin, AlternatesTasksUntilEachEnds) {
  round_robin<int> s;
  s.add("a", count(3));
  s.add("b", count(1));
  std::vector<std::string> log;
  auto results = s.run(
      10, [&](const std::string& n) { log.push_back("switch " + n); },
      [&](const std::string& n, const int& v) { log.push_back(n + "=" + std::to_string(v)); });
  EXPECT_EQ(results["a"], (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(results["b"], (std::vector<int>{1}));
  EXPECT_EQ(log, (std::vector<std::string>{"switch a", "a=1", "switch b", "b=1", "switch a", "a=2", "switch b",
                                           "switch a", "a=3", "switch a"}));
  EXPECT_EQ(s.get_switches(), 4u);
}

TEST(RoundRobin, StopsAfterTheGivenRounds) {
  round_robin<int> s;
  s.add("a", count(100));
  EXPECT_EQ(s.run(5)["a"].size(), 5u);
}
