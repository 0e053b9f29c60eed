// Integration tests of `scalekit serve --broker`: the native endpoints' work
// on real `scalekit worker`s through a private redis-server, the tiles
// held to `scalekit mandelbrot --region`, the bounded wait when the workers
// are gone or stuck, and /fleet's view of them.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "redis_server.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::peer_bin;
using scalekit::testing::peer_built;
using scalekit::testing::redis_server;
using scalekit::testing::run_command;
using scalekit::testing::run_peer;
using scalekit::testing::run_scalekit;
using scalekit::testing::server_process;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string client = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py ";
const std::string no_peer = "no " + peer_bin + " to be the distributed worker (the release build makes it)";

struct broker_serve : server_process {
  broker_serve(const redis_server& redis, const std::string& extra)
      : server_process(bin, "serve -w 1 --threads 4 --cache-mb 0 --broker " + redis.url() + " " + extra,
                       "cli-serve-broker") {}
  // "STATUS\nBODY" of one GET.
  [[nodiscard]] std::string get(const std::string& path) const {
    return run_command(client + "get " + port() + " '" + path + "'").out;
  }
  // "STATUS\nName: value\n..." of one GET.
  [[nodiscard]] std::string headers(const std::string& path) const {
    return run_command(client + "headers " + port() + " '" + path + "'").out;
  }
};

std::unique_ptr<background_process> scalekit_worker(const redis_server& redis, const std::string& extra) {
  auto w =
      std::make_unique<background_process>(peer_bin + " worker --broker " + redis.url() + " " + extra, "sk-worker");
  EXPECT_TRUE(w->wait_for_log("consuming")) << w->log();
  return w;
}

// The value of header `name` in headers()'s output ("" when absent).
std::string header(const std::string& head, const std::string& name) {
  const auto at = head.find("\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto from = at + name.size() + 3;
  return head.substr(from, head.find('\n', from) - from);
}

}  // namespace

// Tiles and numbers are computed by the distributed workers, which the tile
// names; a tile has the pixels (the very PNG bytes) `scalekit mandelbrot`
// writes for its region, and the local executors draw it alike.
TEST(CliServeBroker, TilesRunOnTheDistributedWorkersPixelExact) {
  if (!peer_built()) GTEST_SKIP() << no_peer;
  redis_server redis;
  auto worker = scalekit_worker(redis, "-c 2 --pool processes -n tiles@test");
  broker_serve server(redis, "");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();

  // Tile 1/1/0 is the window re [-0.75, 1], im [-1.75, 0] (web/tile.h), 256 px.
  const std::string path = "/mandelbrot.png?z=1&x=1&y=0&n=200";
  const std::string head = server.headers(path);
  ASSERT_EQ(head.substr(0, 4), "200\n") << head << server.log();
  EXPECT_EQ(header(head, "X-Executor"), "distributed") << head;
  EXPECT_EQ(header(head, "X-Computed-By"), "tiles@test (pid " + std::to_string(worker->pid()) + ")") << head;

  temp_dir dir("serve-broker");
  const std::string file = dir / "tile.png";
  const auto made = run_peer("mandelbrot -W 256 -H 256 -n 200 --region=-0.75,-1.75,1,0 -o " + file);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string tile = server.get(path);
  EXPECT_TRUE(tile == "200\n" + slurp(file)) << tile.substr(0, 80);
  EXPECT_EQ(server.get(path + "&executor=threads"), tile);
  EXPECT_EQ(server.get("/mandelbrot.png?w=640&h=480&n=1000"),
            server.get("/mandelbrot.png?w=640&h=480&executor=serial"));

  EXPECT_EQ(server.get("/primes?n=91"), "200\n{\"n\": 91, \"prime\": false, \"factors\": [7, 13]}\n");
  EXPECT_EQ(server.get("/primes?n=18446744073709551557"),  // the largest 64-bit prime
            "200\n{\"n\": 18446744073709551557, \"prime\": true, \"factors\": [18446744073709551557]}\n");
  EXPECT_EQ(server.get("/primes?n=1"), "200\n{\"n\": 1, \"prime\": false, \"factors\": [1]}\n");
  const json offer = json::parse(server.get("/executors").substr(4));
  EXPECT_EQ(offer["default"], "distributed");
  EXPECT_EQ(offer["choices"].back(), "distributed") << offer.dump();

  // The worker ran them: its heartbeat counts the tasks (one per band, one per number).
  json status;
  for (int i = 0; i < 60; ++i) {
    status = json::parse(run_peer("--json worker --status --broker " + redis.url()).out);
    if (!status["workers"].empty() && status["workers"][0]["processed"].get<int>() >= 4) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(status["workers"].size(), 1u) << status.dump();
  EXPECT_GE(status["workers"][0]["processed"].get<int>(), 4) << status.dump();
}

// No worker: a tile waits --broker-timeout, then 503 saying so; a worker that
// comes later is used at once; one that is stuck gives 504.
TEST(CliServeBroker, ATileWaitsAtMostTheTimeoutThenSaysWhy) {
  if (!peer_built()) GTEST_SKIP() << no_peer;
  redis_server redis;
  broker_serve server(redis, "--broker-timeout 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  auto t0 = std::chrono::steady_clock::now();
  const std::string none = server.get("/mandelbrot.png?z=0&x=0&y=0&n=50");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(none.substr(0, 4), "503\n") << none;
  EXPECT_NE(none.find("no distributed worker is alive"), std::string::npos) << none;
  EXPECT_EQ(server.get("/primes?n=7").substr(0, 4), "503\n");
  EXPECT_NE(server.headers("/primes?n=7").find("\nRetry-After: "), std::string::npos);

  {
    auto slow = scalekit_worker(redis, "-c 1 --pool threads --test-task-delay 3000");
    t0 = std::chrono::steady_clock::now();
    const std::string stuck = server.get("/mandelbrot.png?z=0&x=0&y=0&n=60");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_EQ(stuck.substr(0, 4), "504\n") << stuck;
    EXPECT_NE(stuck.find("the distributed workers gave no result in 1 s (1 live"), std::string::npos) << stuck;
  }
  EXPECT_EQ(redis.cli("DEL celery").exit_code, 0);  // what the stuck worker left waiting
  auto worker = scalekit_worker(redis, "-c 2 --pool threads");
  const std::string tile = server.get("/mandelbrot.png?z=0&x=0&y=0&n=70");
  EXPECT_EQ(tile.substr(0, 8), "200\n\x89PNG") << tile.substr(0, 200);
}

// A broker that does not answer: 503 within the timeout, saying so, and the
// server goes on serving (the tasks it could not publish are dropped with their calls).
TEST(CliServeBroker, AnUnreachableBrokerIs503WithinTheTimeout) {
  redis_server redis;
  redis.stop();  // its port is closed now
  broker_serve server(redis, "--broker-timeout 1");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string r = server.get("/mandelbrot.png?z=0&x=0&y=0&n=" + std::to_string(50 + i));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_EQ(r.substr(0, 4), "503\n") << r;
    EXPECT_NE(r.find("does not answer"), std::string::npos) << r;
  }
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
  EXPECT_EQ(server.get("/mandelbrot.png?w=8&h=8&executor=threads").substr(0, 8), "200\n\x89PNG");
  // Said once, not once per retry of each tile.
  const std::string log = server.log();
  const auto said = log.find("cannot publish to ");
  EXPECT_NE(said, std::string::npos) << log;
  EXPECT_EQ(log.find("cannot publish to ", said + 1), std::string::npos) << log;
}

// /fleet/events carries what `scalekit worker --status` knows: the live
// workers, the queue and the tasks they finish.
TEST(CliServeBroker, TheFleetFeedShowsTheDistributedWorkers) {
  if (!peer_built()) GTEST_SKIP() << no_peer;
  redis_server redis;
  auto worker = scalekit_worker(redis, "-c 2 --pool threads -n fleet@test");
  broker_serve server(redis, "");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(server.get("/mandelbrot.png?z=2&x=" + std::to_string(i) + "&y=1").substr(0, 4), "200\n");
  json broker;
  for (int attempt = 0; attempt < 5; ++attempt) {  // the first reading of a feed may still be on its way
    const auto events = run_command(client + "events " + server.port() + " 2.5");
    const json last = json::parse(events.out.substr(events.out.rfind("\n{") + 1));
    broker = last.value("broker", json::object());
    if (broker.value("ok", false) && !broker["workers"].empty() && broker["workers"][0]["processed"].get<int>() > 0)
      break;
  }
  ASSERT_TRUE(broker.value("ok", false)) << broker.dump();
  EXPECT_EQ(broker["broker"], redis.url());
  EXPECT_EQ(broker["queue"], "celery");
  EXPECT_EQ(broker["waiting"], 0);
  ASSERT_EQ(broker["workers"].size(), 1u) << broker.dump();
  EXPECT_EQ(broker["workers"][0]["name"], "fleet@test (pid " + std::to_string(worker->pid()) + ")");
  EXPECT_EQ(broker["workers"][0]["pool"], "threads");
  EXPECT_EQ(broker["workers"][0]["concurrency"], 2);
  EXPECT_GT(broker["workers"][0]["processed"].get<int>(), 0) << broker.dump();
  EXPECT_TRUE(broker["tasks_per_s"].is_number()) << broker.dump();
}

TEST(CliServeBroker, BadUsage) {
  EXPECT_EQ(run_scalekit("serve --executor distributed").exit_code, 2);
  EXPECT_EQ(run_scalekit("serve --broker http://somewhere").exit_code, 2);
  EXPECT_EQ(run_scalekit("serve --broker redis://127.0.0.1:1/0 --broker-timeout 0").exit_code, 2);
}
