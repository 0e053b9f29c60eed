// The worker and `worker --status` through their entries (run_worker,
// show_status), against a private redis-server, with Celery tasks sent by
// scalekit's own client.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "redis_server.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/taskqueue/builtin_tasks.h"
#include "scalekit/taskqueue/client.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/worker.h"
#include "service_thread.h"

using namespace scalekit;
namespace tq = scalekit::taskqueue;
using core::executor_kind;
using scalekit::testing::field;
using scalekit::testing::redis_server;
using scalekit::testing::service_thread;
using namespace std::chrono_literals;

namespace {

tq::worker_options worker_on(const redis_server& redis) {
  tq::worker_options o;
  o.broker = redis.url();
  o.hostname = "test@worker";
  o.log_tasks = true;
  return o;
}

// Put a Celery message for `task` in the queue, as a client that does not wait
// for its result would: its task id.
std::string publish(const redis_server& redis, const std::string& task, const std::string& args) {
  std::string id;
  const std::string raw = tq::celery::make_envelope(task, args, "{}", {}, &id);
  const auto pushed = redis.cli("LPUSH celery '" + raw + "'");
  EXPECT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_EQ(pushed.out.find("ERR"), std::string::npos) << pushed.out;
  return id;
}

}  // namespace

class WorkerOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    if (GetParam() == executor_kind::openmp) GTEST_SKIP() << "OpenMP under TSan gives false positives";
#endif
  }
};

// Tasks from a client run on the executor the worker was given; a stop ends
// the worker, which reports what it did.
TEST_P(WorkerOnEveryExecutor, RunsCeleryTasksUntilStopped) {
  redis_server redis;
  auto ex = core::make_executor(GetParam(), {.jobs = 2});
  const auto o = worker_on(redis);
  service_thread svc([&](core::observer& obs) { return tq::run_worker(o, *ex, obs); });
  ASSERT_TRUE(svc.wait_for_message("consuming")) << svc.messages();

  tq::distributed_options client;
  client.broker = redis.url();
  std::vector<std::pair<std::string, std::string>> tasks;
  for (int i = 0; i < 20; ++i) tasks.emplace_back("bench_tasks.add", "[" + std::to_string(i) + ", 1]");
  tasks.emplace_back("no.such_task", "[]");
  const auto results = tq::run_celery_tasks(client, tasks);
  ASSERT_EQ(results.size(), 21u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(results[static_cast<std::size_t>(i)].ok()) << i;
    EXPECT_EQ(results[static_cast<std::size_t>(i)].value(), std::to_string(i + 1));
  }
  ASSERT_FALSE(results[20].ok());
  EXPECT_NE(results[20].error().message().find("NotRegistered"), std::string::npos);

  auto r = svc.stop();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->job, "worker");
  EXPECT_EQ(field<std::uint64_t>(*r, "received"), 21u);
  EXPECT_EQ(field<std::uint64_t>(*r, "succeeded"), 20u);
  EXPECT_EQ(field<std::uint64_t>(*r, "failed"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "requeued"), 0u);
  EXPECT_EQ(field<std::uint64_t>(*r, "restored"), 0u);
  EXPECT_EQ(field<std::string>(*r, "name"), "test@worker");
  EXPECT_EQ(field<std::string>(*r, "executor"), std::string(core::to_string(GetParam())));
  EXPECT_EQ(r->failures, 0u);  // a task that failed is its client's failure
  EXPECT_NE(r->summary_line().find("21 tasks received, 20 succeeded, 1 failed, 0 restored from dead workers"),
            std::string::npos)
      << r->summary_line();
  const std::string m = svc.messages();
  EXPECT_NE(m.find("worker test@worker consuming celery from"), std::string::npos) << m;
  EXPECT_NE(m.find("bench_tasks.add["), std::string::npos) << m;  // log_tasks: one per task
  EXPECT_NE(m.find("received unregistered task of type 'no.such_task'"), std::string::npos) << m;
  EXPECT_NE(m.find("stop requested"), std::string::npos) << m;
  EXPECT_EQ(m.find("] worker "), std::string::npos) << m;  // no timestamps unless asked
  EXPECT_EQ(redis.cli("HLEN unacked").out, "0\n");
}

INSTANTIATE_TEST_SUITE_P(Kinds, WorkerOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(core::to_string(p.param)); });

// A task still running when the grace runs out goes back to its queue once,
// and the report says so (the caller then leaves without waiting for it).
TEST(Worker, AStopRequeuesWhatDidNotFinishWithinTheGrace) {
  redis_server redis;
  auto ex = core::make_thread_executor(1);
  auto o = worker_on(redis);
  o.grace = 100ms;
  o.log_timestamps = true;
  service_thread svc([&](core::observer& obs) { return tq::run_worker(o, *ex, obs); });
  ASSERT_TRUE(svc.wait_for_message("consuming")) << svc.messages();
  const std::string id = publish(redis, "scalekit.sleep", "[1]");
  ASSERT_TRUE(svc.wait_for_message("received")) << svc.messages();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = svc.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);  // did not wait for the task
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(field<std::uint64_t>(*r, "received"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "succeeded"), 0u);
  EXPECT_EQ(field<std::uint64_t>(*r, "requeued"), 1u);
  const std::string m = svc.messages();
  EXPECT_NE(m.find("requeued unfinished task " + id), std::string::npos) << m;
  EXPECT_EQ(m.rfind("[20", 0), 0u) << m;  // log_timestamps: "[2024-05-01 12:00:00] ..."
  EXPECT_EQ(redis.cli("LLEN celery").out, "1\n");
  EXPECT_EQ(redis.cli("HLEN unacked").out, "0\n");
}

// stop_after: the worker ends by itself, no stop requested.
TEST(Worker, StopsByItselfAfterSoManyTasks) {
  redis_server redis;
  publish(redis, "bench_tasks.add", "[1, 2]");
  publish(redis, "bench_tasks.add", "[3, 4]");
  auto ex = core::make_thread_executor(2);
  auto o = worker_on(redis);
  o.stop_after = 2;
  core::collecting_observer obs;
  auto r = tq::run_worker(o, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(field<std::uint64_t>(*r, "succeeded"), 2u);
  EXPECT_EQ(redis.cli("LLEN celery").out, "0\n");
}

TEST(Worker, BadOptionsFailAtOnce) {
  auto ex = core::make_inline_executor();
  core::collecting_observer obs;
  tq::worker_options o;
  o.broker = "http://x";
  auto bad_url = tq::run_worker(o, *ex, obs);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().code(), status_code::invalid_argument);
  o = {};
  o.broker = "redis://127.0.0.1:1/99";
  EXPECT_EQ(tq::run_worker(o, *ex, obs).error().code(), status_code::invalid_argument);
  o = {};
  o.queues.clear();
  EXPECT_EQ(tq::run_worker(o, *ex, obs).error().code(), status_code::invalid_argument);
  EXPECT_TRUE(obs.messages().empty());
}

TEST(WorkerStatus, ShowsTheLiveWorkerThenSaysNothingConsumes) {
  redis_server redis;
  tq::status_options so;
  so.broker = redis.url();
  {
    auto ex = core::make_thread_executor(3);
    const auto o = worker_on(redis);
    service_thread svc([&](core::observer& obs) { return tq::run_worker(o, *ex, obs); });
    ASSERT_TRUE(svc.wait_for_message("consuming")) << svc.messages();
    std::string text;
    result<core::report> r = status::internal("not run");
    for (int i = 0; i < 100 && text.find("1 live workers") == std::string::npos; ++i) {  // its first heartbeat
      std::this_thread::sleep_for(20ms);
      core::collecting_observer obs;
      r = tq::show_status(so, obs);
      text = obs.text();
    }
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_NE(text.find("1 live workers\n  test@worker (pid "), std::string::npos) << text;
    EXPECT_NE(text.find("threads x3, 0 active, 0 done, 0 failed"), std::string::npos) << text;
    EXPECT_NE(text.find("queue depth 0, reserved (unacked) 0, dead letters 0, oldest waiting task -\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("health: idle\n"), std::string::npos) << text;
    EXPECT_EQ(r->job, "worker --status");
    EXPECT_EQ(r->failures, 0u);
    EXPECT_TRUE(field<bool>(*r, "consuming"));
    const auto workers = field<std::vector<core::report_record>>(*r, "workers");
    ASSERT_EQ(workers.size(), 1u);
    EXPECT_NE(r->to_json().find("\"workers\":[{\"name\":\"test@worker (pid "), std::string::npos) << r->to_json();
    EXPECT_NE(r->to_json().find("\"concurrency\":3,\"pool\":\"threads\""), std::string::npos) << r->to_json();
    ASSERT_TRUE(svc.stop().ok());
  }
  publish(redis, "bench_tasks.add", "[1, 2]");
  core::collecting_observer obs;
  auto r = tq::show_status(so, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->failures, 1u);  // not consuming: the command line's exit status 1
  EXPECT_FALSE(field<bool>(*r, "consuming"));
  EXPECT_EQ(field<std::uint64_t>(*r, "waiting"), 1u);
  EXPECT_EQ(field<std::string>(*r, "verdict"), "not consuming: 1 tasks wait and no worker is alive");
  EXPECT_NE(obs.text().find("0 live workers\nqueue depth 1,"), std::string::npos) << obs.text();
  EXPECT_NE(r->summary_line().find("health: not consuming"), std::string::npos) << r->summary_line();

  so.broker = "http://x";
  EXPECT_EQ(tq::show_status(so, obs).error().code(), status_code::invalid_argument);
}

int main(int argc, char** argv) {
  tq::celery::register_builtin_tasks();
  if (auto rc = core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
