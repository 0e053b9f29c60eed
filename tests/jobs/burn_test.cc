#include "scalekit/jobs/burn/burn.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stop_token>
#include <thread>

#include "scalekit/core/executor.h"
#include "scalekit/core/process_pool.h"

namespace burn = scalekit::jobs::burn;
using scalekit::core::collecting_observer;
using scalekit::core::executor_kind;
using scalekit::core::report_record;

namespace {

std::int64_t record_int(const report_record& rec, std::string_view key) {
  for (const auto& f : rec)
    if (f.key == key) return std::get<std::int64_t>(f.value);
  throw std::runtime_error("no field " + std::string(key));
}

}  // namespace

class BurnOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  std::unique_ptr<scalekit::core::executor> make() { return scalekit::core::make_executor(GetParam(), {.jobs = 2}); }
};

// One loop per worker: a line for each as it finishes (who ran it), then the
// total; the report has a record per loop with the same process and thread.
TEST_P(BurnOnEveryExecutor, EveryWorkerRunsOneLoopThenTheTotal) {
  auto ex = make();
  collecting_observer obs;
  auto r = burn::run({.iterations = 3'000'000}, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const std::size_t workers = ex->concurrency();
  EXPECT_TRUE(obs.messages().empty());
  std::istringstream in(obs.text());
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), workers + 1) << obs.text();
  EXPECT_EQ(lines.back().rfind("work took ", 0), 0u) << lines.back();
  const auto& records = std::get<std::vector<report_record>>(*r->find("workers"));
  ASSERT_EQ(records.size(), workers);
  for (std::size_t i = 0; i < workers; ++i) {
    const auto pid = record_int(records[i], "pid"), tid = record_int(records[i], "tid");
    EXPECT_EQ(lines[i].rfind("process " + std::to_string(pid) + " thread " + std::to_string(tid) + ": ", 0), 0u)
        << lines[i];
    // Threads share the test's process; worker processes are their own.
    EXPECT_EQ(pid == ::getpid(), GetParam() != executor_kind::processes) << lines[i];
  }
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("iterations")), 3'000'000u);
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("jobs")), workers);
  EXPECT_EQ(std::get<std::string>(*r->find("executor")), std::string(to_string(GetParam())));
  EXPECT_EQ(r->failures, 0u);
}

// Loops of hours end within a second of a stop request, on threads too (the
// executor cannot stop a running call: the loop looks at its run's stop).
TEST_P(BurnOnEveryExecutor, AStopRequestEndsLongLoopsPromptly) {
  auto ex = make();
  std::stop_source source;
  collecting_observer obs(source.get_token());
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    source.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = burn::run({.iterations = burn::max_iterations}, *ex, obs);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled) << r.error().to_string();
  EXPECT_TRUE(obs.messages().empty()) << obs.messages().front();
  EXPECT_EQ(obs.text(), "");
  // Within a second of the request on an idle machine; the margin is for a busy one.
  EXPECT_LT(took, std::chrono::milliseconds(2300));
  // The stop of one run is not the next one's: a new run on a new executor finishes.
  auto again = make();
  collecting_observer fresh;
  EXPECT_TRUE(burn::run({.iterations = 1000}, *again, fresh).ok());
}

INSTANTIATE_TEST_SUITE_P(Executors, BurnOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST(BurnJob, IterationsOutsideTheRangeAreInvalid) {
  auto ex = scalekit::core::make_executor(executor_kind::serial);
  collecting_observer obs;
  EXPECT_EQ(burn::run({.iterations = 0}, *ex, obs).error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(burn::run({.iterations = burn::max_iterations + 1}, *ex, obs).error().code(),
            scalekit::status_code::invalid_argument);
  EXPECT_EQ(obs.text(), "");
}

int main(int argc, char** argv) {
  burn::register_tasks();  // worker processes of the process executor run the job's task
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
