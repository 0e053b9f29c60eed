#include "scalekit/core/executor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "scalekit/core/simd_target.h"
#include "scalekit/core/wire.h"

using namespace scalekit::core;
using scalekit::result;
using scalekit::status;

namespace {
bytes u64(std::uint64_t v) { return wire_writer().put<std::uint64_t>(v).take(); }
std::uint64_t as_u64(const bytes& b) { return wire_reader(b).get<std::uint64_t>(); }
}  // namespace

// Every executor must give the same answers: same order from map(), every call
// exactly once from as_completed(), failures as values that name the task.
class Executor : public ::testing::TestWithParam<executor_kind> {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    // libgomp's barriers are not instrumented, so TSan reports its hand-offs as races.
    if (GetParam() == executor_kind::openmp) GTEST_SKIP() << "OpenMP under TSan gives false positives";
#endif
  }
  std::unique_ptr<executor> make(std::size_t jobs = 2) {
    executor_options o;
    o.jobs = jobs;
    return make_executor(GetParam(), o);
  }
};

TEST_P(Executor, MapKeepsInputOrder) {
  auto ex = make();
  std::vector<bytes> in;
  for (std::uint64_t i = 0; i < 1000; ++i) in.push_back(u64(i));
  auto out = ex->map("test.square", in);
  ASSERT_EQ(out.size(), 1000u);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(out[i].ok()) << out[i].error().to_string();
    EXPECT_EQ(as_u64(out[i].value()), i * i);
  }
  EXPECT_EQ(ex->get_stats().completed.load(), 1000u);
}

TEST_P(Executor, SubmitReturnsThroughFuture) {
  auto ex = make();
  EXPECT_EQ(ex->submit("test.echo", "hello").get(), "hello");
  auto bad = ex->submit("test.fail", "x");
  try {
    bad.get();
    FAIL() << "expected task_error";
  } catch (const task_error& e) {
    EXPECT_NE(std::string(e.what()).find("test.fail"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("boom: x"), std::string::npos) << e.what();
  }
}

TEST_P(Executor, FailuresAreValuesAndTheRestGoOn) {
  auto ex = make();
  std::vector<task_call> calls = {{"test.echo", "a"}, {"test.fail", "b"}, {"no.such.task", ""}, {"test.echo", "d"}};
  std::vector<std::optional<result<bytes>>> got(calls.size());
  std::mutex m;
  std::condition_variable cv;
  std::size_t n = 0;
  ex->dispatch(calls, [&](std::size_t i, result<bytes> r) {
    std::scoped_lock lock(m);
    got[i].emplace(std::move(r));
    ++n;
    cv.notify_all();
  });
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return n == calls.size(); }));
  EXPECT_EQ(got[0]->value(), "a");
  EXPECT_FALSE(got[1]->ok());
  EXPECT_FALSE(got[2]->ok());
  EXPECT_NE(got[2]->error().message().find("unknown task 'no.such.task'"), std::string::npos)
      << got[2]->error().message();
  EXPECT_EQ(got[3]->value(), "d");
}

TEST_P(Executor, AsCompletedYieldsEachCallOnce) {
  auto ex = make();
  std::vector<bytes> in;
  for (std::uint64_t i = 0; i < 200; ++i) in.push_back(u64(i));
  auto stream = ex->as_completed("test.square", in);
  std::set<std::size_t> seen;
  while (auto c = stream.next()) {
    ASSERT_TRUE(c->value.ok());
    EXPECT_EQ(as_u64(c->value.value()), c->index * c->index);
    EXPECT_TRUE(seen.insert(c->index).second);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_P(Executor, AfterCloseCallsAreCancelledNotLost) {
  auto ex = make();
  ex->close();
  auto r = ex->map("test.echo", {"x"});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error().code(), scalekit::status_code::cancelled);
}

TEST_P(Executor, RecordsServiceTimes) {
  auto ex = make();
  ex->map("test.sleep_ms", {"2", "2", "2"});
  EXPECT_EQ(ex->get_stats().service_time.count(), 3u);
  EXPECT_GE(ex->get_stats().service_time.percentile(0.5), std::chrono::milliseconds(1));
  EXPECT_FALSE(ex->get_stats().latency_summary().empty());
}

// cancel() returns at once, from another thread, while calls run: queued calls
// complete as cancelled, every call completes exactly once, well within a
// second, and later work is refused.
TEST_P(Executor, CancelStopsPromptlyAndCompletesEveryCall) {
  auto ex = make_executor(GetParam(), {.jobs = 2});
  ex->wait_ready();
  std::vector<bytes> in(60, "20");
  std::chrono::nanoseconds cancel_took{};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto t = std::chrono::steady_clock::now();
    ex->cancel();
    cancel_took = std::chrono::steady_clock::now() - t;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto stream = ex->as_completed("test.sleep_ms", in);  // serial and openmp run inside
  std::size_t ok = 0, cancelled = 0, other = 0;
  while (auto c = stream.next()) {
    if (c->value.ok()) {
      ++ok;
    } else if (c->value.error().code() == scalekit::status_code::cancelled) {
      ++cancelled;
    } else {
      ++other;
    }
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_EQ(ok + cancelled + other, 60u);
  EXPECT_EQ(other, 0u);
  EXPECT_GE(cancelled, 30u);                               // 60 x 20 ms on 2 workers is 600 ms; cancelled after 50
  EXPECT_LT(cancel_took, std::chrono::milliseconds(250));  // it does not wait for the running calls
  EXPECT_LT(took, std::chrono::milliseconds(
                      3000));  // 60 x 20 ms on 2 workers would be 600 ms; the counts above prove the cancel
  auto late = ex->map("test.echo", {"x"});
  ASSERT_EQ(late.size(), 1u);
  EXPECT_FALSE(late[0].ok());
}

// The thread executor's runners claim calls in grains (n / (threads * 64) at a
// time); a cancel must not wait for the rest of a grain: claimed calls that
// have not started are as queued as the others.
TEST(ThreadExecutor, CancelDropsTheCallsARunnerClaimedButDidNotStart) {
  auto ex = make_thread_executor(2);
  std::vector<bytes> in(25600, "5");  // grains of 200 calls: a second each
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ex->cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto stream = ex->as_completed("test.sleep_ms", in);
  std::size_t ok = 0, cancelled = 0;
  while (auto c = stream.next()) (c->value.ok() ? ok : cancelled)++;
  const auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  EXPECT_EQ(ok + cancelled, in.size());
  EXPECT_LT(ok, 200u);
  EXPECT_LT(took, std::chrono::milliseconds(600));
}

INSTANTIATE_TEST_SUITE_P(Kinds, Executor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST(ExecutorKind, ParsesAndPrints) {
  for (auto k : {executor_kind::serial, executor_kind::threads, executor_kind::processes, executor_kind::openmp,
                 executor_kind::distributed})
    EXPECT_EQ(parse_executor_kind(to_string(k)), k);
  EXPECT_EQ(parse_executor_kind("gpu"), std::nullopt);
  EXPECT_EQ(parse_executor_kind("async"), std::nullopt);  // the event loop is a job's nature, not an executor
  EXPECT_THROW(make_executor(executor_kind::distributed), std::invalid_argument);
}

TEST(ThreadExecutor, TerminateCancelsQueuedCalls) {
  auto ex = make_thread_executor(1);
  std::vector<bytes> in(50, "20");
  auto stream = ex->as_completed("test.sleep_ms", in);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ex->terminate();
  std::size_t ok = 0, cancelled = 0;
  while (auto c = stream.next()) (c->value.ok() ? ok : cancelled)++;
  EXPECT_EQ(ok + cancelled, 50u);  // nothing lost
  EXPECT_GE(cancelled, 40u);
}

// map_streaming delivers in input order even when later calls finish first,
// and starts delivering before the slowest call is done.
TEST_P(Executor, MapStreamingDeliversInOrderAsThePrefixCompletes) {
  auto ex = make();
  std::vector<bytes> in = {"60", "1", "1", "1", "1", "1"};  // the first call is the slowest
  std::vector<std::size_t> order;
  ex->map_streaming("test.sleep_ms", in, [&](std::size_t i, result<bytes>& r) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), in[i]);
    order.push_back(i);
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
}

TEST(SimdTarget, BaselineIsAlwaysUsableAndLast) {
  const auto& t = usable_simd_targets();
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back(), simd_target::baseline);
  EXPECT_FALSE(to_string(chosen_simd_target()).empty());
}
