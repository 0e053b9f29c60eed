#include "scalekit/core/async.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace scalekit::core;
using namespace std::chrono_literals;

namespace {
task<void> note(std::vector<std::string>& log, std::string what, std::chrono::milliseconds after) {
  co_await sleep_for(after);
  log.push_back(std::move(what));
}
task<int> value_after(int v, std::chrono::milliseconds d) {
  co_await sleep_for(d);
  co_return v;
}
task<void> fails() {
  co_await sleep_for(1ms);
  throw std::runtime_error("task failed");
}
}  // namespace

TEST(Async, RunUntilCompleteReturnsTheValue) { EXPECT_EQ(run_until_complete(value_after(42, 1ms)), 42); }

TEST(Async, SleepsInterleaveOnOneThread) {
  std::vector<std::string> log;
  run_until_complete([&]() -> task<void> {
    auto ex = co_await this_executor();
    auto a = spawn(ex, note(log, "slow", 30ms));
    auto b = spawn(ex, note(log, "fast", 5ms));
    log.push_back("spawned");  // spawned tasks start only at the next co_await
    co_await a.join();
    co_await b.join();
  }());
  EXPECT_EQ(log, (std::vector<std::string>{"spawned", "fast", "slow"}));
}

TEST(Async, JoinRethrowsAndGatherCollects) {
  EXPECT_THROW(run_until_complete([]() -> task<void> {
                 auto h = spawn(co_await this_executor(), fails());
                 co_await h.join();
               }()),
               std::runtime_error);
  auto [a, b] = run_until_complete(
      []() -> task<std::tuple<int, int>> { co_return co_await (value_after(1, 10ms) && value_after(2, 1ms)); }());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
}

TEST(Async, AsyncCallRunsOffTheLoopAndResumesOnIt) {
  auto ex = make_thread_executor(2);
  auto [value, loop_thread, resumed_thread] =
      run_until_complete([&]() -> task<std::tuple<std::string, std::thread::id, std::thread::id>> {
        const auto here = std::this_thread::get_id();
        auto r = co_await async_call(*ex, "test.echo", "hi");
        co_return std::make_tuple(r.ok() ? r.value() : r.error().message(), here, std::this_thread::get_id());
      }());
  EXPECT_EQ(value, "hi");
  EXPECT_EQ(loop_thread, resumed_thread);
  auto failed =
      run_until_complete([&]() -> task<bool> { co_return (co_await async_call(*ex, "test.fail", "x")).ok(); }());
  EXPECT_FALSE(failed);
}
