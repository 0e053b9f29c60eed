#include "scalekit/jobs/coop/coop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <string>

#include "scalekit/core/cooperative.h"

namespace co = scalekit::jobs::coop;
using scalekit::core::collecting_observer;

namespace {

// The seed's trace, from one run() of the scheduler over every round.
std::string reference_trace(std::uint64_t limit) {
  scalekit::core::round_robin<std::uint64_t> s;
  s.add("square_mapper", co::square_mapper(co::number_generator(limit)));
  s.add("prime_filter", co::prime_filter(co::number_generator(limit)));
  std::string trace;
  s.run(
      limit, [&](const std::string& name) { trace += "Switching to task " + name + "\n"; },
      [&](const std::string&, const std::uint64_t& v) { trace += "Result=> " + std::to_string(v) + "\n"; });
  return trace;
}

}  // namespace

TEST(CoopJob, LastPrimeThenTheTime) {
  collecting_observer obs;
  auto r = co::run({.limit = 100}, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const std::string text = obs.text();
  EXPECT_EQ(text.substr(0, text.find('\n') + 1), "Last prime=> 97\n");
  EXPECT_EQ(text.find("Time taken=> ", 16), 16u) << text;
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("switches")), 125u);  // 100 squares, 25 primes
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("last_prime")), 97u);
  EXPECT_EQ(r->summary_line().rfind("coop: 125 switches between 2 generator tasks in ", 0), 0u) << r->summary_line();
  EXPECT_EQ(obs.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{100, 100}));
}

TEST(CoopJob, NoPrimeSaysNone) {
  collecting_observer obs;
  auto r = co::run({.limit = 1}, obs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(obs.text().rfind("Last prime=> none\n", 0), 0u) << obs.text();
  EXPECT_EQ(r->find("last_prime"), nullptr);
}

// The job runs the rounds in slices to look at its stop token; the trace is
// still the seed's, switch for switch, across the slices' edges.
TEST(CoopJob, TheTraceIsTheSeedsAcrossSlices) {
  for (std::uint64_t limit : {10u, 65536u, 150000u}) {
    collecting_observer obs;
    auto r = co::run({.limit = limit, .trace = true}, obs);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const std::string expect = reference_trace(limit);
    const std::string text = obs.text();
    ASSERT_GT(text.size(), expect.size());
    EXPECT_TRUE(text.compare(0, expect.size(), expect) == 0) << "limit " << limit;
    EXPECT_EQ(text.compare(expect.size(), 13, "Last prime=> "), 0) << "limit " << limit;
  }
  collecting_observer ten;
  ASSERT_TRUE(co::run({.limit = 10, .trace = true}, ten).ok());
  const std::string start =
      "Switching to task square_mapper\nResult=> 1\nSwitching to task prime_filter\nResult=> 2\n"
      "Switching to task square_mapper\n";
  EXPECT_EQ(ten.text().substr(0, start.size()), start);
}

// An observer that asks for a stop once the job reported `after` rounds done.
class stop_after_progress : public collecting_observer {
 public:
  stop_after_progress(std::stop_source& source, std::uint64_t after)
      : collecting_observer(source.get_token()), source_(source), after_(after) {}
  void progress(std::uint64_t done, std::uint64_t total, std::string_view unit) override {
    collecting_observer::progress(done, total, unit);
    if (done >= after_) source_.request_stop();
  }

 private:
  std::stop_source& source_;
  std::uint64_t after_;
};

// The largest limit takes hours; a stop request ends it at the next slice.
TEST(CoopJob, AStopRequestEndsTheLargestLimitPromptly) {
  std::stop_source source;
  stop_after_progress obs(source, 1);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = co::run({.limit = co::max_limit}, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(obs.text(), "");
}

TEST(CoopJob, LimitOutsideTheRangeIsInvalid) {
  collecting_observer obs;
  EXPECT_EQ(co::run({.limit = 0}, obs).error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(co::run({.limit = co::max_limit + 1}, obs).error().code(), scalekit::status_code::invalid_argument);
}
