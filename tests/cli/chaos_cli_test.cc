// The distributed queue under chaos (issue 16): while a distributed
// Mandelbrot runs on three scalekit workers, a random worker is SIGKILLed
// every second or two and replaced, Redis is killed and restarted once (empty:
// no persistence), and malformed, soon-due and far-future messages are pushed
// between the real ones. The image must come out exact; afterwards nothing is
// waiting in the queue, only the far-future task is reserved (and has not
// run), the soon-due tasks ran, every malformed message is dead-lettered, and
// no process of a killed worker is left.

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"
#include "redis_server.h"
#include "sanitizers.h"
#include "sha256.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::redis_server;
using scalekit::testing::run_command;
using scalekit::testing::sha256_of;
using scalekit::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

const std::string fixtures = SCALEKIT_SEEDS_DIR "/../celery";
const char* seed_640x480 = "18dc0eb21ee0c7a0bd53e2670b7f3f613fe02964d7d53fbcc4dbfbc0ce38cd03";

// A process group is gone (or only zombies the test reaps are left) within `within`.
bool group_ends(int pgid, std::chrono::milliseconds within) {
  const auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Poll `condition` until it holds or `within` passes.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds within) {
  const auto end = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

TEST(CliChaos, DistributedMandelbrotSurvivesKilledWorkersARedisRestartAndBadMessages) {
  if (scalekit::testing::sanitized)
    GTEST_SKIP() << "a stress test of bounds and timing: run in the plain build (sanitizers.h)";
  redis_server redis;
  auto cli = [&](const std::string& args) { return redis.cli(args).out; };
  auto send = [&](const std::string& args) {
    const auto r = run_command("env SCALEKIT_BROKER=" + redis.url() + " PYTHONPATH=" + fixtures + " /usr/bin/python3 " +
                               fixtures + "/send_task.py " + args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  };
  // Each task held 120 ms: the 480 rows take a few seconds on 6 slots, long
  // enough for the chaos. A task may be on a killed worker several times:
  // --max-deliveries is not what is tested here.
  const std::string worker_args = " worker --loglevel info --broker " + redis.url() +
                                  " -c 2 --visibility-timeout 1 --max-deliveries 20 --test-task-delay 120";
  auto start_worker = [&] {
    auto w = std::make_unique<background_process>(bin + worker_args, "chaos-worker");
    EXPECT_TRUE(w->wait_for_log("consuming")) << w->log();
    return w;
  };
  std::vector<std::unique_ptr<background_process>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(start_worker());

  temp_dir dir("chaos");
  background_process job(bin + " mandelbrot -W 640 -H 480 --executor distributed --broker " + redis.url() + " -o " +
                             (dir / "m.rgb"),
                         "chaos-job");
  ASSERT_TRUE(eventually(
      [&] {
        for (auto& w : workers)
          if (w->log().find("succeeded") != std::string::npos) return true;
        return false;
      },
      30s))
      << workers[0]->log() << job.log();

  // Redis dies mid-job and comes back empty.
  redis.kill_hard();
  std::this_thread::sleep_for(300ms);
  redis.start();

  std::mt19937 rng(16);
  std::vector<int> killed_groups;
  std::vector<std::unique_ptr<background_process>> killed;  // kept for their logs
  // What every worker and the job said, their ends: to tell a failure's story.
  auto story = [&] {
    std::string text;
    auto tail = [](const std::string& log) { return log.size() > 3000 ? log.substr(log.size() - 3000) : log; };
    for (const auto& w : killed) text += "--- killed worker:\n" + tail(w->log());
    for (const auto& w : workers) text += "--- worker:\n" + tail(w->log());
    return text + "--- job:\n" + tail(job.log());
  };
  int malformed = 0, soon = 0, far = 0, kills = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (!job.wait_exit(1500ms)) {
    ASSERT_LT(std::chrono::steady_clock::now() - t0, 120s) << story();
    // Bad messages between the real ones: not JSON, a pickled body (its id
    // gets a FAILURE), a task due in two seconds, and (once) one due in 2099.
    cli("LPUSH celery 'not json at all'");
    cli("LPUSH celery '{\"headers\": {\"task\": \"x\", \"id\": \"chaos-bad-" + std::to_string(malformed) +
        "\"}, \"properties\": {\"delivery_tag\": \"t" + std::to_string(malformed) +
        "\"}, \"content-type\": \"application/x-python-serialize\", \"body\": \"\"}'");
    malformed += 2;
    send("bench_tasks.add '[40, 2]' chaos-soon-" + std::to_string(soon++) + " 2");
    if (far == 0) send("bench_tasks.add '[1, 1]' chaos-far-" + std::to_string(far++) + " far");
    // A random worker dies holding whatever it holds; another takes its place.
    const std::size_t victim = std::uniform_int_distribution<std::size_t>(0, workers.size() - 1)(rng);
    killed_groups.push_back(workers[victim]->pid());
    workers[victim]->kill();
    killed.push_back(std::move(workers[victim]));
    ++kills;
    workers[victim] = start_worker();
  }
  EXPECT_GE(kills, 3) << "the job ended before the chaos";
  std::cerr << kills << " workers killed, " << malformed << " malformed, " << soon << " soon-due and " << far
            << " far-future messages pushed\n";
  EXPECT_EQ(job.exit_code(), 0) << story();
  EXPECT_EQ(sha256_of(dir / "m.rgb"), seed_640x480);
  EXPECT_NE(job.log().find("the broker restarted"), std::string::npos) << job.log();

  // The queue drains: the soon-due tasks run, the far one stays reserved
  // (unrun), the malformed ones are dead-lettered, nothing else is waiting.
  EXPECT_TRUE(eventually([&] { return cli("LLEN celery") == "0\n" && cli("HLEN unacked") == "1\n"; }, 30s))
      << "queue " << cli("LLEN celery") << "unacked " << cli("HLEN unacked") << cli("HVALS unacked") << story();
  for (int i = 0; i < soon; ++i) {
    const std::string key = "celery-task-meta-chaos-soon-" + std::to_string(i);
    EXPECT_TRUE(eventually([&] { return cli("GET " + key).find("\"SUCCESS\"") != std::string::npos; }, 10s))
        << key << ": " << cli("GET " + key) << story();
  }
  EXPECT_EQ(cli("EXISTS celery-task-meta-chaos-far-0"), "0\n");  // 2099 has not come
  EXPECT_NE(cli("HVALS unacked").find("chaos-far-0"), std::string::npos);
  for (int i = 0; i < malformed; i += 2)
    EXPECT_NE(cli("GET celery-task-meta-chaos-bad-" + std::to_string(i)).find("DecodeError"), std::string::npos)
        << i << story();
  // At least once: a worker killed between dead-lettering and acknowledging
  // dead-letters the message again after its restore.
  EXPECT_GE(std::stoi(cli("LLEN scalekit-dead-letters-celery")), malformed);

  // No process of a killed worker outlives it; the others stop cleanly.
  for (const int pgid : killed_groups) EXPECT_TRUE(group_ends(pgid, 5s)) << "worker group " << pgid;
  for (auto& w : workers) {
    const int pgid = w->pid();
    const std::string log = w->stop();
    EXPECT_EQ(w->exit_code(), 0) << log;
    EXPECT_TRUE(group_ends(pgid, 5s)) << "worker group " << pgid;
  }
}
