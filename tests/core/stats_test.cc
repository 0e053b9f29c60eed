#include "scalekit/core/stats.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace scalekit::core;
using std::chrono::nanoseconds;

TEST(LatencyHistogram, PercentilesWithinBucketResolution) {
  latency_histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(nanoseconds(i * 1000));  // 1us..1ms
  EXPECT_EQ(h.count(), 1000u);
  const double p50 = static_cast<double>(h.percentile(0.5).count());
  const double p99 = static_cast<double>(h.percentile(0.99).count());
  EXPECT_NEAR(p50, 500e3, 500e3 * 0.07);
  EXPECT_NEAR(p99, 990e3, 990e3 * 0.07);
  EXPECT_EQ(h.max(), nanoseconds(1'000'000));
  EXPECT_EQ(h.mean(), nanoseconds(500'500));
}

TEST(LatencyHistogram, EmptyIsZero) {
  latency_histogram h;
  EXPECT_EQ(h.percentile(0.5), nanoseconds(0));
}

TEST(LatencyHistogram, ConcurrentRecordsAllCount) {
  latency_histogram h;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) h.record(nanoseconds(i));
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(h.count(), 400000u);
}

TEST(FormatDuration, PicksUnits) {
  EXPECT_EQ(format_duration(nanoseconds(850)), "850ns");
  EXPECT_EQ(format_duration(nanoseconds(12'300)), "12.3us");
  EXPECT_EQ(format_duration(nanoseconds(4'560'000)), "4.56ms");
  EXPECT_EQ(format_duration(nanoseconds(1'230'000'000)), "1.23s");
}
