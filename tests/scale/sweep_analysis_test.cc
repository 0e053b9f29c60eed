// The sweep's analysis of measured runs (src/scale/sweep_detail.h): medians
// and spread per point, speedup against the same executor's N = 1, the
// thin-data rule for the models, oversubscription, and a superlinear σ
// reported below zero rather than clamped.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <set>

#include "fleet.h"
#include "service_load.h"
#include "sweep_detail.h"

namespace sc = scalekit::scale;
using kind = scalekit::core::executor_kind;

namespace {

// Runs of `kind` at each N in `ns`, `repeat` each, with throughput f(N) (items over one second).
sc::sweep_results synthetic(const std::vector<std::size_t>& ns, int repeat, double (*f)(double)) {
  sc::sweep_results r;
  r.w = sc::find_workload("primes");
  r.machine.cores = 4;
  r.repeat = repeat;
  r.sizes = {1000};
  r.executors = {kind::serial, kind::threads};
  r.workers = ns;
  r.points = sc::plan_points(r.executors, r.workers, r.sizes);
  for (int rep = 0; rep < repeat; ++rep)
    for (std::size_t i = 0; i < r.points.size(); ++i) {
      const double n = static_cast<double>(r.points[i].workers);
      sc::point_sample s;
      s.wall_s = 1;
      s.items = f(n) * (1 + 0.01 * rep);
      s.unit = "numbers";
      r.runs.push_back({i, rep, s, s.items});
    }
  return r;
}

double amdahl_like(double n) { return 1000 * n / (1 + 0.1 * (n - 1)); }
double superlinear(double n) { return 1000 * n * (1 + 0.05 * (n - 1)); }

}  // namespace

TEST(SweepAnalysis, ThinDataGetsNoModel) {
  auto r = synthetic({1, 2, 3, 4, 5}, 3, amdahl_like);
  sc::analyse(r);
  ASSERT_EQ(r.models.size(), 1u);  // threads only: serial is the baseline
  EXPECT_EQ(r.models[0].distinct_n, 5u);
  EXPECT_FALSE(r.models[0].fitted());
  EXPECT_NE(sc::text_table(r).find(sc::thin_data_verdict), std::string::npos);
}

TEST(SweepAnalysis, SixDistinctNGetTheModelsAndExtrapolationsAreLabelled) {
  auto r = synthetic({1, 2, 3, 4, 5, 6}, 3, amdahl_like);
  sc::analyse(r);
  ASSERT_EQ(r.models.size(), 1u);
  const auto& m = r.models[0];
  ASSERT_TRUE(m.fitted());
  EXPECT_NEAR(m.sigma, 0.1, 0.02);
  EXPECT_FALSE(m.usl->superlinear);
  EXPECT_EQ(m.predict_n, 12);
  EXPECT_LT(m.predict_low, m.predict_x);  // a band, around the prediction
  EXPECT_GT(m.predict_high, m.predict_x);
  EXPECT_NEAR(m.predict_x, amdahl_like(12) * 1.01, 0.05 * amdahl_like(12));
  const auto table = sc::text_table(r);
  EXPECT_NE(table.find("(extrapolation"), std::string::npos) << table;
  EXPECT_NE(table.find("oversubscribed"), std::string::npos) << table;  // N = 5, 6 on 4 cores
}

TEST(SweepAnalysis, PointsHaveTheirSpreadAndSpeedup) {
  auto r = synthetic({1, 2, 3, 4, 5, 6}, 3, amdahl_like);
  sc::analyse(r);
  ASSERT_EQ(r.summaries.size(), 7u);
  const auto& t2 = r.summaries[2];  // serial, threads 1, threads 2, ...
  ASSERT_EQ(t2.point, (sc::sweep_point{kind::threads, 2, 1000}));
  EXPECT_EQ(t2.runs, 3u);
  EXPECT_NEAR(t2.throughput.min, amdahl_like(2), 1e-9);
  EXPECT_NEAR(t2.throughput.max, amdahl_like(2) * 1.02, 1e-9);
  EXPECT_NEAR(t2.speedup, amdahl_like(2) / amdahl_like(1), 1e-9);
  EXPECT_NEAR(t2.karp_flatt, 0.1, 1e-9);  // Amdahl's σ is exactly Karp–Flatt's e
  EXPECT_FALSE(t2.oversubscribed);
  EXPECT_TRUE(r.summaries[6].oversubscribed);
}

TEST(SweepAnalysis, SuperlinearSigmaIsFlaggedAndNotClamped) {
  auto r = synthetic({1, 2, 3, 4, 5, 6}, 2, superlinear);
  sc::analyse(r);
  ASSERT_TRUE(r.models[0].fitted());
  EXPECT_TRUE(r.models[0].usl->superlinear);
  EXPECT_LT(r.models[0].sigma, 0);
  EXPECT_NE(sc::text_table(r).find("superlinear"), std::string::npos);
}

TEST(SweepAnalysis, CsvHasOneRowPerRun) {
  auto r = synthetic({1, 2}, 3, amdahl_like);
  sc::analyse(r);
  const auto csv = sc::csv_rows(r);
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), 1 + r.runs.size());
  EXPECT_EQ(csv.rfind("order,executor,workers,size,repeat,wall_s", 0), 0u);
}

// Each run's task percentiles are ordered; the point's are their medians,
// which keeps them ordered; a run that timed no task is left out.
TEST(SweepAnalysis, TaskLatencyIsTheMedianOfTheRunsPercentiles) {
  auto r = synthetic({1, 2}, 3, amdahl_like);
  for (auto& run : r.runs) {
    const double k = 1 + run.repeat;  // 1, 2, 3 ms scale by repeat
    run.sample.tasks = {.tasks = static_cast<std::uint64_t>(10 * k),
                        .p50 = 1e-3 * k,
                        .p99 = 2e-3 * k,
                        .p999 = 3e-3 * k,
                        .max = 4e-3 * k};
  }
  r.runs.front().sample.tasks = {};  // untimed: NaN percentiles, no tasks
  sc::analyse(r);
  for (const auto& s : r.summaries) {
    SCOPED_TRACE(std::string(scalekit::core::to_string(s.point.executor)) + std::to_string(s.point.workers));
    EXPECT_GT(s.tasks.tasks, 0u);
    EXPECT_LE(s.tasks.p50, s.tasks.p99);
    EXPECT_LE(s.tasks.p99, s.tasks.p999);
    EXPECT_LE(s.tasks.p999, s.tasks.max);
  }
  // The first point lost its first run: the median of repeats 2 and 3.
  const auto& first = r.summaries[r.runs.front().point];
  EXPECT_DOUBLE_EQ(first.tasks.p50, 2.5e-3);
  EXPECT_EQ(first.tasks.tasks, 25u);
  const auto& other = r.summaries[r.runs.front().point == 0 ? 1 : 0];
  EXPECT_DOUBLE_EQ(other.tasks.max, 8e-3);
  EXPECT_NE(sc::task_latency_text(r).find("p99.9 ms"), std::string::npos);
}

TEST(SweepAnalysis, NoTimedTaskNoTaskLatencyTable) {
  auto r = synthetic({1, 2}, 1, amdahl_like);
  sc::analyse(r);
  EXPECT_TRUE(std::isnan(r.summaries[0].tasks.p50));
  EXPECT_EQ(sc::task_latency_text(r), "");
}

// The fleet's task latency comes from its workers' logs: Celery's
// "Task NAME[ID] succeeded in 0.001234s: RESULT" lines, nothing else.
TEST(FleetLog, TaskTimesAreTheSucceededLines) {
  const std::string log =
      "[2026-12-01 07:00:00,000: INFO] Task mandelbrot_tasks.mandelbrot_calc_row[a] received\n"
      "[2026-12-01 07:00:00,001: INFO] Task mandelbrot_tasks.mandelbrot_calc_row[a] succeeded in 0.002000s: {}\n"
      "[2026-12-01 07:00:00,002: INFO] Task scalekit.run[b] succeeded in 0.000500s: 'x'\n"
      "[2026-12-01 07:00:00,003: INFO] Task scalekit.run[c] succeeded in soon: 'x'\n"
      "[2026-12-01 07:00:00,004: INFO] Task scalekit.run[d] succeeded in 0.010000s: 'x succeeded in 9s'\n";
  scalekit::core::latency_histogram h;
  EXPECT_EQ(sc::record_task_times(log, h), 3u);  // a, b and d: not c, nor the text of d's result
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.max(), std::chrono::milliseconds(10));
  scalekit::core::latency_histogram none;
  EXPECT_EQ(sc::record_task_times("worker w1@sweep consuming celery\n", none), 0u);
}

// Six distinct N by default, the fewest the models are fitted from.
TEST(ServiceWorkloads, DefaultWorkersAreEnoughForAModel) {
  for (const auto& s : sc::service_workload_table()) {
    std::set<std::size_t> distinct(s.default_workers.begin(), s.default_workers.end());
    EXPECT_TRUE(sc::enough_for_model(distinct.size())) << s.w.name;
  }
}
