// /fleet's view of the distributed workers: tasks per second from the
// workers' counters, the reading as JSON, and the watch against a real Redis.
#include "web/broker_watch.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "redis_server.h"

namespace web = scalekit::serve::web;
namespace tq = scalekit::taskqueue;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

tq::status_report workers(std::initializer_list<std::pair<const char*, std::uint64_t>> processed) {
  tq::status_report r;
  for (const auto& [name, n] : processed) {
    tq::status_report::worker_info w;
    w.name = name;
    w.processed = n;
    r.workers.push_back(w);
  }
  return r;
}

}  // namespace

TEST(TaskRate, FewerThanTwoReadingsIsZero) {
  web::task_rate rate;
  EXPECT_EQ(rate.get_per_second(), 0);
  rate.add(std::chrono::steady_clock::now(), workers({{"a", 100}}));
  EXPECT_EQ(rate.get_per_second(), 0);
}

TEST(TaskRate, CountsEachWorkersProgressAndNotNewcomersTotals) {
  web::task_rate rate;
  const auto t0 = std::chrono::steady_clock::now();
  rate.add(t0, workers({{"a", 10}, {"b", 5}}));
  rate.add(t0 + 2s, workers({{"a", 20}, {"b", 5}, {"c", 1000}}));  // c just joined: its 1000 are older
  EXPECT_DOUBLE_EQ(rate.get_per_second(), 5.0);
  rate.add(t0 + 4s, workers({{"b", 9}, {"c", 1010}}));  // a left
  EXPECT_DOUBLE_EQ(rate.get_per_second(), 1.0);         // b's 4 over 4 s; c was not in the first reading
}

TEST(TaskRate, KeepsOnlyItsWindow) {
  web::task_rate rate(6s);
  const auto t0 = std::chrono::steady_clock::now();
  rate.add(t0, workers({{"a", 0}}));
  rate.add(t0 + 4s, workers({{"a", 400}}));
  rate.add(t0 + 8s, workers({{"a", 420}}));
  rate.add(t0 + 12s, workers({{"a", 440}}));  // the first two are past the window now
  EXPECT_DOUBLE_EQ(rate.get_per_second(), 5.0);
}

TEST(BrokerJson, ListsTheWorkersAndTheQueueWithoutThePassword) {
  auto s = workers({{"w@h (pid 7)", 12}});
  s.workers[0].pool = "processes";
  s.workers[0].concurrency = 4;
  s.waiting = 3;
  s.verdict = "ok";
  const json j = json::parse(web::broker_json("redis://:secret@10.0.0.1:6380/2", "tiles", s, 2.5));
  EXPECT_EQ(j["broker"], "redis://10.0.0.1:6380/2");
  EXPECT_EQ(j["queue"], "tiles");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["waiting"], 3);
  EXPECT_EQ(j["verdict"], "ok");
  EXPECT_EQ(j["tasks_per_s"], 2.5);
  ASSERT_EQ(j["workers"].size(), 1u);
  EXPECT_EQ(j["workers"][0]["name"], "w@h (pid 7)");
  EXPECT_EQ(j["workers"][0]["pool"], "processes");
  EXPECT_EQ(j["workers"][0]["concurrency"], 4);
  EXPECT_EQ(j["workers"][0]["processed"], 12);
}

TEST(BrokerJson, ABrokerThatDoesNotAnswerSaysWhy) {
  const scalekit::result<tq::status_report> failed = scalekit::status::io_error("connection refused");
  const json j = json::parse(web::broker_json("redis://127.0.0.1:1/0", "celery", failed, 0));
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], "connection refused");
  EXPECT_FALSE(j.contains("workers"));
}

// Against a real Redis: nothing before it is asked, then a reading within a second or two.
TEST(BrokerWatch, ReadsTheBrokerOnceAsked) {
  scalekit::testing::redis_server redis;
  web::broker_watch watch(redis.url(), "celery");
  EXPECT_EQ(json::parse(watch.get_json())["error"], "reading…");
  json j;
  for (int i = 0; i < 50; ++i) {
    j = json::parse(watch.get_json());
    if (j["ok"] == true) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(j["ok"], true) << j.dump();
  EXPECT_EQ(j["verdict"], "idle") << j.dump();
  EXPECT_EQ(j["workers"].size(), 0u);
}

TEST(BrokerWatch, AnUnreachableBrokerIsAReadingToo) {
  web::broker_watch watch("redis://127.0.0.1:1/0", "celery");
  json j = json::parse(watch.get_json());
  for (int i = 0; i < 50 && j["error"] == "reading…"; ++i) {
    std::this_thread::sleep_for(100ms);
    j = json::parse(watch.get_json());
  }
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(j["error"], "reading…") << j.dump();
}
