// `scalekit serve --broker/--cache` when Redis misbehaves: paused (SIGSTOP),
// full (maxmemory with noeviction), or a fake that answers only errors. The
// real binary, a real redis-server, a fake Redis on a loopback socket.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"
#include "loopback.h"
#include "redis_server.h"
#include "serve_helpers.h"

using scalekit::testing::count_of;
using scalekit::testing::json;
using scalekit::testing::redis_server;
using scalekit::testing::serve_server;
using namespace std::chrono_literals;

namespace {

// A Redis that answers PING and refuses every other command, as a Redis still
// loading its data set does (or one whose ACL forbids the commands).
class loading_redis {
 public:
  loading_redis() : listener_(scalekit::testing::listen_loopback()) {
    thread_ = std::thread([this] { run(); });
  }
  ~loading_redis() {
    stop_ = true;
    thread_.join();
    for (int c : clients_)
      if (c >= 0) ::close(c);
  }
  loading_redis(const loading_redis&) = delete;
  loading_redis& operator=(const loading_redis&) = delete;
  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(listener_.port()); }

 private:
  struct client {
    int fd;
    std::string in;
  };

  // The commands complete at the front of `in` (RESP arrays of bulk strings), removed; their first words.
  static std::vector<std::string> take_commands(std::string& in) {
    std::vector<std::string> verbs;
    for (;;) {
      std::size_t at = 0;
      const auto line = [&](std::string& out) {
        const auto end = in.find("\r\n", at);
        if (end == std::string::npos) return false;
        out = in.substr(at, end - at);
        at = end + 2;
        return true;
      };
      std::string head, verb;
      if (!line(head) || head.empty() || head[0] != '*') return verbs;
      const long n = std::stol(head.substr(1));
      bool complete = true;
      for (long i = 0; i < n && complete; ++i) {
        std::string size;
        if (!line(size)) complete = false;
        const auto len = complete ? static_cast<std::size_t>(std::stol(size.substr(1))) : 0;
        if (!complete || in.size() < at + len + 2) complete = false;
        if (complete && i == 0) verb = in.substr(at, len);
        at += len + 2;
      }
      if (!complete) return verbs;
      in.erase(0, at);
      verbs.push_back(verb);
    }
  }

  void run() {
    std::vector<client> cs;
    while (!stop_) {
      std::vector<pollfd> fds{{listener_.fd(), POLLIN, 0}};
      for (const auto& c : cs) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int c = ::accept(listener_.fd(), nullptr, nullptr);
        if (c >= 0) cs.push_back({c, ""});
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
        char buf[65536];
        const ssize_t n = ::read(cs[i - 1].fd, buf, sizeof buf);
        if (n <= 0) {  // closed: poll() skips a negative descriptor
          ::close(cs[i - 1].fd);
          cs[i - 1].fd = -1;
          continue;
        }
        cs[i - 1].in.append(buf, static_cast<std::size_t>(n));
        std::string out;
        for (const auto& verb : take_commands(cs[i - 1].in))
          out += verb == "PING" ? "+PONG\r\n" : "-LOADING Redis is loading the dataset in memory\r\n";
        (void)::write(cs[i - 1].fd, out.data(), out.size());
      }
    }
    for (const auto& c : cs) clients_.push_back(c.fd);
  }

  scalekit::testing::loopback_listener listener_;
  std::atomic<bool> stop_{false};
  std::vector<int> clients_;
  std::thread thread_;
};

int first_worker_pid(const json& s) {
  for (const auto& w : s.value("workers", json::array()))
    if (w["state"] == "ready") return w["pid"].get<int>();
  return 0;
}

}  // namespace

// A broker that answers errors (LOADING) to the status query took the reply
// for [cursor, keys]: every worker crashed at start (the /fleet watcher asks at
// once), and serve gave up. Now a request that finds no worker gets a 503 that
// says what the broker answered.
TEST(ServeRedis, ABrokerAnsweringOnlyErrorsCrashesNoWorker) {
  loading_redis fake;
  serve_server server("-w 1 --timeout 20 --broker-timeout 1 --broker " + fake.url());
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const std::string got = server.get("/primes?n=12345");
  EXPECT_EQ(got.substr(0, 4), "503\n") << got << server.log();
  EXPECT_NE(got.find("LOADING"), std::string::npos) << got;
  EXPECT_EQ(server.log().find("[crash]"), std::string::npos) << server.log();
}

// A paused Redis accepts connections and never answers: the request waited for
// its first connection (5 s) before --broker-timeout began, then for a status
// query with no bound, past --timeout: a 504, and its worker was replaced. Now
// it gets a 503 (the broker does not answer) and the worker stays.
TEST(ServeRedis, APausedBrokerGets503AndKeepsTheWorker) {
  redis_server redis;
  serve_server server("-w 1 --timeout 6 --broker-timeout 1 --broker " + redis.url());
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const int worker = first_worker_pid(server.status());
  ASSERT_GT(worker, 0) << server.log();
  redis.pause();
  for (int i = 0; i < 2; ++i) {  // the first connection, then the one it made
    const std::string got = server.get("/primes?n=1234" + std::to_string(i));
    EXPECT_EQ(got.substr(0, 4), "503\n") << got << server.log();
    EXPECT_NE(got.find("does not answer"), std::string::npos) << got;
  }
  redis.resume();
  EXPECT_EQ(first_worker_pid(server.status()), worker) << server.log();
  EXPECT_EQ(server.log().find("replacing the worker"), std::string::npos) << server.log();
}

// While the broker was paused, each request's tasks waited in the worker's
// memory for it to answer, as many as requests came: a long outage piled them
// up without bound. Now past --broker-backlog tasks the broker has not taken,
// a request needing it gets 503 at once (no wait for --broker-timeout), the
// log says so once, and once the broker takes them it says so again.
TEST(ServeRedis, APausedBrokersBacklogIsBoundedAndRefusedAtOnce) {
  redis_server redis;
  serve_server server("-w 1 --timeout 20 --broker-timeout 1 --broker-backlog 2 --broker " + redis.url());
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  // Connected first (no scalekit worker consumes the queue: 503, none alive), then paused.
  EXPECT_EQ(server.get("/primes?n=1000").substr(0, 4), "503\n") << server.log();
  redis.pause();
  for (int i = 0; i < 2; ++i) {  // each waits --broker-timeout; its task stays unsent
    const std::string got = server.get("/primes?n=2000" + std::to_string(i));
    EXPECT_EQ(got.substr(0, 4), "503\n") << got << server.log();
    EXPECT_NE(got.find("does not answer"), std::string::npos) << got;
  }
  for (int i = 0; i < 3; ++i) {
    const std::string got = server.get("/primes?n=3000" + std::to_string(i));
    EXPECT_EQ(got.substr(0, 4), "503\n") << got << server.log();
    EXPECT_NE(got.find("has not taken 2 tasks"), std::string::npos) << got;
  }
  EXPECT_EQ(count_of(server.log(), "refusing new tasks until it does"), 1U) << server.log();
  redis.resume();
  EXPECT_TRUE(server.wait_for_log("has taken the tasks that waited", 10s)) << server.log();
}

// --broker-timeout (10 s by default) past --timeout turned a broker outage
// into a 504 and a replaced worker. Given, it must be under --timeout; by
// default it is half of a shorter --timeout, so the outage is a 503.
TEST(ServeRedis, TheBrokersWaitStaysUnderTheTimeout) {
  redis_server redis;
  const auto refused = scalekit::testing::run_scalekit(
      "serve --listen 127.0.0.1:0 --timeout 2 --broker-timeout 2 --broker " + redis.url());
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("--broker-timeout 2 s is not under --timeout 2 s"), std::string::npos) << refused.err;
  serve_server server("-w 1 --timeout 2 --broker " + redis.url());  // no scalekit worker consumes the queue
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const int worker = first_worker_pid(server.status());
  const std::string got = server.get("/primes?n=1000003");
  EXPECT_EQ(got.substr(0, 4), "503\n") << got << server.log();
  EXPECT_EQ(first_worker_pid(server.status()), worker) << server.log();
}

// A full Redis (maxmemory, noeviction) answers lookups and refuses stores: the
// refusal marked it unreachable, the next lookup reachable again, and the log
// said so twice a second per worker. Now once, and once when it stores again.
TEST(ServeRedis, AFullCacheIsSaidOnce) {
  redis_server redis;
  ASSERT_EQ(redis.cli("SETRANGE filler 2000000 x").exit_code, 0);
  ASSERT_EQ(redis.cli("CONFIG SET maxmemory-policy noeviction").exit_code, 0);
  ASSERT_EQ(redis.cli("CONFIG SET maxmemory 1mb").exit_code, 0);
  serve_server server("-w 1 --cache " + redis.url());
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  for (int i = 0; i < 30; ++i) {  // 3 s of distinct tiles: three retries of the store
    const std::string got = server.get("/mandelbrot.png?w=8&h=8&n=" + std::to_string(100 + i));
    ASSERT_EQ(got.substr(0, 4), "200\n") << server.log();
    std::this_thread::sleep_for(100ms);
  }
  const std::string log = server.log();
  EXPECT_EQ(count_of(log, "refuses to store"), 1U) << log;
  EXPECT_EQ(count_of(log, "unavailable"), 0U) << log;
  ASSERT_EQ(redis.cli("CONFIG SET maxmemory 0").exit_code, 0);
  std::this_thread::sleep_for(1100ms);  // past the retry wait
  for (int i = 0; i < 3; ++i) (void)server.get("/mandelbrot.png?w=8&h=8&n=" + std::to_string(200 + i));
  EXPECT_TRUE(server.wait_for_log("stores again", 5s)) << server.log();
}
