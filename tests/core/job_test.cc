#include "scalekit/core/job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "scalekit/core/executor.h"

using namespace scalekit::core;
using namespace std::chrono_literals;

// The summary line and the JSON come from the same fields: every field with a
// text is in both, and the generic parts (elapsed, rate) are in both.
TEST(Report, SummaryLineAndJsonShowTheSameFields) {
  report r("mandelbrot");
  r.work = "64x48 n=100 -> m.png";
  r.elapsed = 250ms;
  r.items = 3072;
  r.unit = "pixels";
  r.add("width", std::uint64_t{64}, "");  // the head says it
  r.add("kernel", std::string("simd/AVX2"), "{} kernel");
  r.add("tasks", std::uint64_t{12}, "{} tasks");
  r.add("task_p50_s", std::chrono::nanoseconds(1500us), "task p50 {}");
  r.add("shortcut", true, "");
  EXPECT_EQ(r.summary_line(),
            "mandelbrot: 64x48 n=100 -> m.png in 0.250 s (1.229e+04 pixels/s) [simd/AVX2 kernel, 12 tasks, task p50 "
            "1.50ms]");
  EXPECT_EQ(r.to_json(),
            R"({"job":"mandelbrot","elapsed_s":0.25,"pixels_per_s":12288,"failures":0,"width":64,"kernel":"simd/AVX2",)"
            R"("tasks":12,"task_p50_s":0.0015,"shortcut":true})");
}

TEST(Report, AddReplacesAFieldWithTheSameKey) {
  report r("x");
  r.add("n", std::uint64_t{1});
  r.add("n", std::uint64_t{2}, "{} items");
  ASSERT_EQ(r.fields().size(), 1u);
  EXPECT_EQ(std::get<std::uint64_t>(*r.find("n")), 2u);
  EXPECT_EQ(r.find("missing"), nullptr);
  EXPECT_NE(r.summary_line().find("[2 items]"), std::string::npos);
}

// JSON is valid whatever the strings hold: control characters are escaped,
// bytes that are not UTF-8 become U+FFFD, UTF-8 passes, NaN becomes null.
TEST(Report, JsonEscapesEverything) {
  report r("find");
  r.add("path", std::string("a\"b\\c\nd\x01\xff\xc3\xa9"), "");
  r.add("ratio", std::nan(""), "");
  EXPECT_EQ(r.to_json(), R"({"job":"find","elapsed_s":0,"failures":0,"path":"a\"b\\c\nd\u0001\ufffdé","ratio":null})");
}

TEST(Report, ListsOfRecordsAreArraysOfObjects) {
  report r("burn");
  std::vector<report_record> workers;
  workers.push_back({{"pid", std::int64_t{7}, ""}, {"seconds", 1.5, ""}});
  workers.push_back({{"pid", std::int64_t{8}, ""}, {"seconds", 2.0, ""}});
  r.add("workers", std::move(workers), "{} workers");
  EXPECT_EQ(r.to_json(),
            R"({"job":"burn","elapsed_s":0,"failures":0,"workers":[{"pid":7,"seconds":1.5},{"pid":8,"seconds":2}]})");
  EXPECT_NE(r.summary_line().find("[2 workers]"), std::string::npos);
}

TEST(Report, FieldsOfTheJobWinOverTheGenericOnes) {
  report r("x");
  r.elapsed = 1s;
  r.add("elapsed_s", 0.5, "");
  EXPECT_EQ(r.to_json(), R"({"job":"x","failures":0,"elapsed_s":0.5})");
}

// A field whose text shows nothing leaves no empty slot in the summary
// ("[threads -j 2, ]" was seen), and the failures are in the JSON.
TEST(Report, FieldsThatShowNothingLeaveNoGap) {
  report r("x");
  r.failures = 3;
  r.add("executor", std::string("threads"), "{}");
  r.add("rate", std::string(""), "{}");
  r.add("blank", std::string(" "), "{} ");
  r.add("jobs", std::uint64_t{2}, "-j {}");
  r.add("last", std::string(""), "{}");
  EXPECT_EQ(r.summary_line(), "x: 0.000 s [threads, -j 2]");
  EXPECT_NE(r.to_json().find(R"("failures":3)"), std::string::npos) << r.to_json();
}

TEST(Report, ExecutorFieldsNameTheExecutorAndItsLatency) {
  auto ex = make_executor(executor_kind::threads, {.jobs = 2});
  ex->map("test.echo", {"a", "b", "c"});
  report r("x");
  add_executor_fields(r, *ex);
  EXPECT_EQ(std::get<std::string>(*r.find("executor")), "threads");
  EXPECT_EQ(std::get<std::uint64_t>(*r.find("jobs")), 2u);
  EXPECT_EQ(std::get<std::uint64_t>(*r.find("tasks")), 3u);
  EXPECT_NE(r.find("task_p99_s"), nullptr);
  EXPECT_NE(r.summary_line().find("threads, -j 2, 3 tasks, task p50"), std::string::npos) << r.summary_line();
}

TEST(Report, ExecutorFieldsGiveTheTaskPercentilesInOrder) {
  for (const auto kind : {executor_kind::serial, executor_kind::threads, executor_kind::processes}) {
    auto ex = make_executor(kind, {.jobs = 2});
    std::vector<bytes> payloads(200, "x");
    ex->map("test.echo", payloads);
    report r("x");
    add_executor_fields(r, *ex);
    std::vector<std::chrono::nanoseconds> q;
    for (const char* key : {"task_p50_s", "task_p99_s", "task_p999_s", "task_max_s"}) {
      const auto* v = r.find(key);
      ASSERT_NE(v, nullptr) << to_string(kind) << " " << key;
      q.push_back(std::get<std::chrono::nanoseconds>(*v));
    }
    EXPECT_GT(q[0].count(), 0) << to_string(kind);
    EXPECT_LE(q[0], q[1]) << to_string(kind);
    EXPECT_LE(q[1], q[2]) << to_string(kind);
    EXPECT_LE(q[2], q[3]) << to_string(kind);
    EXPECT_NE(r.to_json().find("\"task_p999_s\":"), std::string::npos) << r.to_json();
  }
}

TEST(Observer, CollectsFromManyThreadsAndSeesItsStopToken) {
  std::stop_source stop;
  collecting_observer obs(stop.get_token());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) obs.message("m" + std::to_string(t));
    });
  for (auto& t : threads) t.join();
  obs.output("a\nb\n");
  obs.progress(3, 10, "rows");
  EXPECT_EQ(obs.messages().size(), 400u);
  EXPECT_EQ(obs.text(), "a\nb\n");
  EXPECT_EQ(obs.last_progress(), std::make_pair(std::uint64_t{3}, std::uint64_t{10}));
  EXPECT_FALSE(obs.stop_requested());
  stop.request_stop();
  EXPECT_TRUE(obs.stop_requested());
}
