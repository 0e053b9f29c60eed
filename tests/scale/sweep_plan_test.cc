// The sweep's plan and statistics: which points, the shuffled order of the
// repeats, the spread, speedup/efficiency/Karp–Flatt on known inputs, and the
// thin-data rule.

#include "scalekit/scale/sweep_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <vector>

namespace sc = scalekit::scale;
using kind = scalekit::core::executor_kind;

TEST(SweepPlan, EveryExecutorWorkersAndSizeWithSerialOnlyAtOneWorker) {
  const std::vector<kind> ex{kind::serial, kind::threads, kind::processes};
  const std::vector<std::size_t> workers{2, 1, 4, 2};
  const std::vector<std::uint64_t> sizes{100, 200};
  const auto pts = sc::plan_points(ex, workers, sizes);
  ASSERT_EQ(pts.size(), 2u * (1 + 3 + 3));
  EXPECT_EQ(pts[0], (sc::sweep_point{kind::serial, 1, 100}));
  EXPECT_EQ(pts[1], (sc::sweep_point{kind::threads, 1, 100}));
  EXPECT_EQ(pts[3], (sc::sweep_point{kind::threads, 4, 100}));
  EXPECT_EQ(pts[7], (sc::sweep_point{kind::serial, 1, 200}));
  std::set<std::tuple<int, std::size_t, std::uint64_t>> seen;
  for (const auto& p : pts) {
    EXPECT_TRUE(seen.insert({static_cast<int>(p.executor), p.workers, p.size}).second) << "a point twice";
    if (p.executor == kind::serial) {
      EXPECT_EQ(p.workers, 1u);
    }
  }
}

TEST(SweepPlan, SerialWithoutOneInTheWorkersStillRunsOnce) {
  const std::vector<kind> ex{kind::serial};
  const std::vector<std::size_t> workers{2, 3};
  const std::vector<std::uint64_t> sizes{7};
  const auto pts = sc::plan_points(ex, workers, sizes);
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(pts[0].workers, 1u);
}

TEST(SweepPlan, ShufflingCoversEveryPointRepeatTimesOncePerRound) {
  for (const int repeat : {1, 3, 7}) {
    const std::size_t points = 11;
    const auto runs = sc::shuffled_runs(points, repeat, 42);
    ASSERT_EQ(runs.size(), points * static_cast<std::size_t>(repeat));
    std::map<std::size_t, std::set<int>> repeats_of;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      ASSERT_LT(runs[i].point, points);
      EXPECT_EQ(runs[i].repeat, static_cast<int>(i / points)) << "round " << i / points;
      EXPECT_TRUE(repeats_of[runs[i].point].insert(runs[i].repeat).second) << "point twice in one round";
    }
    ASSERT_EQ(repeats_of.size(), points);
    for (const auto& [p, reps] : repeats_of) EXPECT_EQ(reps.size(), static_cast<std::size_t>(repeat)) << p;
  }
}

TEST(SweepPlan, ShufflingIsSeededAndActuallyShuffles) {
  const auto a = sc::shuffled_runs(20, 3, 7), b = sc::shuffled_runs(20, 3, 7), c = sc::shuffled_runs(20, 3, 8);
  auto points = [](const std::vector<sc::planned_run>& v) {
    std::vector<std::size_t> out;
    for (const auto& r : v) out.push_back(r.point);
    return out;
  };
  EXPECT_EQ(points(a), points(b));
  EXPECT_NE(points(a), points(c));
  std::vector<std::size_t> identity;
  for (std::size_t i = 0; i < 20; ++i) identity.push_back(i);
  const auto pa = points(a);
  EXPECT_NE(std::vector<std::size_t>(pa.begin(), pa.begin() + 20), identity);
  EXPECT_TRUE(sc::shuffled_runs(0, 3, 1).empty());
}

TEST(SweepStats, SpreadIsMinMedianMaxIgnoringNaN) {
  const auto odd = sc::spread_of({5, 1, 3});
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.median, 3);
  EXPECT_EQ(odd.max, 5);
  const auto even = sc::spread_of({4, 1, 3, 2, std::nan("")});
  EXPECT_EQ(even.median, 2.5);
  EXPECT_EQ(even.max, 4);
  EXPECT_TRUE(std::isnan(sc::spread_of({}).median));
}

TEST(SweepStats, SpeedupEfficiencyAndKarpFlattOnKnownInputs) {
  const std::vector<sc::measurement> pts{{1, 100}, {2, 160}, {4, 400}, {4, 200}, {8, 100}};
  const auto rows = sc::scaling_rows(pts, 100);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_DOUBLE_EQ(rows[0].speedup, 1);
  EXPECT_TRUE(std::isnan(rows[0].karp_flatt));  // undefined at N = 1
  EXPECT_DOUBLE_EQ(rows[1].speedup, 1.6);
  EXPECT_DOUBLE_EQ(rows[1].efficiency, 0.8);
  EXPECT_DOUBLE_EQ(rows[1].karp_flatt, 0.25);  // (1/1.6 - 1/2) / (1 - 1/2)
  EXPECT_NEAR(rows[2].karp_flatt, 0, 1e-12);   // linear speedup: no serial fraction
  EXPECT_DOUBLE_EQ(rows[3].karp_flatt, 1.0 / 3);
  EXPECT_DOUBLE_EQ(rows[4].karp_flatt, 1);  // no speedup at all: all serial
  EXPECT_DOUBLE_EQ(rows[4].efficiency, 0.125);
  EXPECT_TRUE(std::isnan(sc::scaling_rows(pts, 0)[1].speedup));
}

TEST(SweepStats, FewerThanSixDistinctNIsThinData) {
  EXPECT_FALSE(sc::enough_for_model(0));
  EXPECT_FALSE(sc::enough_for_model(5));
  EXPECT_TRUE(sc::enough_for_model(6));
  EXPECT_TRUE(sc::enough_for_model(12));
}
