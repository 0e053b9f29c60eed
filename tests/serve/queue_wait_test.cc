// How long a request may wait for a serve worker's application threads
// (--queue-wait): a burst may wait the whole bound, a standing queue a tenth
// of it; a request is taken once, by a thread or by the shedding. Times are
// made up (no clock is read), so nothing here depends on the machine's speed.

#include "queue_wait.h"

#include <gtest/gtest.h>

using scalekit::serve::queue_wait;
using namespace std::chrono_literals;

namespace {

const queue_wait::clock::time_point t0 = queue_wait::clock::time_point{} + 1h;

}  // namespace

TEST(QueueWait, ABurstWaitsTheWholeBoundThenIsShed) {
  queue_wait q(1000ms);
  auto t = q.enter(t0);
  EXPECT_EQ(q.first_look(*t), t0 + 100ms);
  const auto early = q.look(*t, t0 + 100ms);  // the queue was empty 100 ms ago: not standing
  ASSERT_EQ(early.what, queue_wait::outcome::waiting);
  EXPECT_EQ(early.next, t0 + 1000ms);
  EXPECT_EQ(q.look(*t, t0 + 1000ms).what, queue_wait::outcome::shed);
  EXPECT_FALSE(q.start(*t, t0 + 1001ms)) << "a shed request must not run late";
}

TEST(QueueWait, AStandingQueueHoldsARequestATenthOfTheBound) {
  queue_wait q(1000ms);
  auto first = q.enter(t0);  // never taken: the queue is not empty from t0 on
  auto late = q.enter(t0 + 1500ms);
  EXPECT_TRUE(q.standing(t0 + 1600ms));
  EXPECT_EQ(q.look(*late, t0 + 1600ms).what, queue_wait::outcome::shed);
  EXPECT_EQ(q.look(*first, t0 + 1600ms).what, queue_wait::outcome::shed);
  EXPECT_FALSE(q.standing(t0 + 1600ms)) << "both gone: the queue is empty";
}

TEST(QueueWait, AQueueThatEmptiesIsNotStanding) {
  queue_wait q(1000ms);
  for (int i = 0; i < 30; ++i) {  // 3 s of requests, each taken 50 ms after it came
    auto t = q.enter(t0 + i * 100ms);
    EXPECT_FALSE(q.standing(t0 + i * 100ms + 50ms));
    EXPECT_EQ(q.look(*t, t0 + i * 100ms + 50ms).what, queue_wait::outcome::waiting);
    EXPECT_TRUE(q.start(*t, t0 + i * 100ms + 50ms));
  }
}

TEST(QueueWait, ARequestIsTakenOnce) {
  queue_wait q(1000ms);
  auto t = q.enter(t0);
  EXPECT_TRUE(q.start(*t, t0 + 5s));
  EXPECT_FALSE(q.start(*t, t0 + 5s));
  EXPECT_EQ(q.look(*t, t0 + 5s).what, queue_wait::outcome::started) << "running: left to --timeout";
  auto u = q.enter(t0 + 6s);
  EXPECT_EQ(q.look(*u, t0 + 8s).what, queue_wait::outcome::shed);
  EXPECT_FALSE(q.start(*u, t0 + 8s));
  auto v = q.enter(t0 + 9s);  // the queue was empty again: a burst's bound
  EXPECT_EQ(q.look(*v, t0 + 9s + 500ms).what, queue_wait::outcome::waiting);
}
