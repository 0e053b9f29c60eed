#include "scalekit/jobs/sleepers/sleepers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stop_token>
#include <thread>
#include <vector>

namespace sl = scalekit::jobs::sleepers;
using scalekit::core::collecting_observer;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

// The five sleepers in the seed's order: the main task starts them, sleeps,
// waits for them all; each sleeper wakes before the end.
TEST(SleepersJob, FiveSleepersInTheSeedsOrder) {
  sl::options o;
  o.which = sl::demo::five;
  o.five = {.tasks = 3, .max_delay_s = 0.05, .main_sleep_s = 0.01, .seed = 7};
  collecting_observer obs;
  auto r = sl::run(o, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto l = lines_of(obs.text());
  ASSERT_EQ(l.size(), 3u + 2 * 3 + 1) << obs.text();
  EXPECT_EQ(l[0], "Creating 3 tasks");
  EXPECT_EQ(l[1], "Sleeping after starting 3 tasks");
  EXPECT_EQ(l[2].rfind("0 sleeps for ", 0), 0u) << l[2];
  EXPECT_EQ(l.back(), "Done 3 tasks");
  auto pos = [&](const std::string& s) { return std::find(l.begin(), l.end(), s) - l.begin(); };
  for (int i = 0; i < 3; ++i) EXPECT_LT(pos(std::to_string(i) + " awakens"), pos("Done 3 tasks"));
  EXPECT_EQ(std::get<std::string>(*r->find("demo")), "five");
  EXPECT_EQ(r->summary_line().rfind("sleepers: the event-loop demos (five) in ", 0), 0u) << r->summary_line();
}

// prime_filter and square_mapper alternate, then the gathered result.
TEST(SleepersJob, GatheredCoroutinesAlternateThenTheResult) {
  sl::options o;
  o.which = sl::demo::tasks;
  o.step_s = 0.001;
  o.from = 10;
  o.to = 13;
  collecting_observer obs;
  auto r = sl::run(o, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  auto l = lines_of(obs.text());
  ASSERT_EQ(l.size(), 7u) << obs.text();
  EXPECT_EQ(l[0], "Prime=> 11");
  EXPECT_EQ(l[1], "Square=> 100");  // prime_filter slept: square_mapper ran
  EXPECT_EQ(l.back(), "Result=> [(11, 13), [100, 121, 144, 169]]");
  l.pop_back();
  std::sort(l.begin(), l.end());
  EXPECT_EQ(l, (std::vector<std::string>{"Prime=> 11", "Prime=> 13", "Square=> 100", "Square=> 121", "Square=> 144",
                                         "Square=> 169"}));
}

// Sleepers of a minute: a stop request stops the loop where it is.
TEST(SleepersJob, AStopRequestStopsTheLoopAtOnce) {
  sl::options o;
  o.five = {.tasks = 5, .max_delay_s = 60, .main_sleep_s = 60, .seed = 1};
  std::stop_source source;
  collecting_observer obs(source.get_token());
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    source.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = sl::run(o, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(lines_of(obs.text()).front(), "Creating five tasks");
  EXPECT_EQ(obs.text().find("awakens"), std::string::npos);
}

TEST(SleepersJob, BadRangesAreInvalidArguments) {
  collecting_observer obs;
  sl::options reversed;
  reversed.from = 5;
  reversed.to = 4;
  auto r = sl::run(reversed, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(r.error().message(), "--from must not exceed --to");
  sl::options big;
  big.to = sl::max_to + 1;
  EXPECT_EQ(sl::run(big, obs).error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(obs.text(), "");
}

TEST(SleepersJob, DemoNames) {
  for (auto d : {sl::demo::five, sl::demo::tasks, sl::demo::both}) EXPECT_EQ(sl::parse_demo(sl::to_string(d)), d);
  EXPECT_EQ(sl::parse_demo("all"), std::nullopt);
}
