#include "scalekit/taskqueue/redis.h"

#include <gtest/gtest.h>

#include "redis_server.h"

namespace core = scalekit::core;
using scalekit::taskqueue::commands;
using scalekit::taskqueue::redis_client;
using scalekit::taskqueue::redis_endpoint;
using scalekit::taskqueue::redis_reply;
using scalekit::taskqueue::redis_subscriber;
using scalekit::taskqueue::words;
using scalekit::testing::redis_server;
using namespace std::chrono_literals;

namespace {
redis_endpoint endpoint_of(const redis_server& r, int db = 0) { return redis_endpoint::parse(r.url(db)).value(); }
}  // namespace

TEST(RedisEndpoint, ParsesUrls) {
  auto e = redis_endpoint::parse("redis://:s3cret@example.org:6390/4").value();
  EXPECT_EQ(e.host, "example.org");
  EXPECT_EQ(e.port, 6390);
  EXPECT_EQ(e.password, "s3cret");
  EXPECT_EQ(e.db, 4);
  EXPECT_EQ(e.to_string(), "redis://example.org:6390/4");  // no password in logs
  auto d = redis_endpoint::parse("redis://localhost").value();
  EXPECT_EQ(d.host, "127.0.0.1");
  EXPECT_EQ(d.port, 6379);
  EXPECT_EQ(d.db, 0);
  EXPECT_EQ(redis_endpoint::parse("redis://user:pw@h:1/0").value().password, "pw");
  EXPECT_FALSE(redis_endpoint::parse("http://x").ok());
  EXPECT_FALSE(redis_endpoint::parse("redis://h:99999/0").ok());
  EXPECT_FALSE(redis_endpoint::parse("redis://h:1/16").ok());
  EXPECT_FALSE(redis_endpoint::parse("redis://h:1/x").ok());
  // IPv6 in brackets; a malformed host is refused, not retried forever (issue 16).
  auto v6 = redis_endpoint::parse("redis://[::1]:6390/2").value();
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 6390);
  EXPECT_EQ(v6.to_string(), "redis://[::1]:6390/2");
  EXPECT_EQ(redis_endpoint::parse("redis://[::1]").value().port, 6379);
  for (const char* bad :
       {"redis://[::1/0", "redis://::1/0", "redis://[::1]x/0", "redis://[nothex]/0", "redis://h:/0", "redis://h]:1/0"})
    EXPECT_FALSE(redis_endpoint::parse(bad).ok()) << bad;
}

// An error names the URL, but never its password: errors reach logs and terminals.
TEST(RedisEndpoint, ErrorsHideThePassword) {
  for (const char* bad :
       {"redis://user:s3cret@h:99999/0", "redis://:s3cret@h:1/x", "redis://s3cret@[::1/0", "rediss://user:s3cret@h"}) {
    const auto e = redis_endpoint::parse(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().to_string().find("s3cret"), std::string::npos) << e.error().to_string();
    EXPECT_NE(e.error().to_string().find("***@"), std::string::npos) << e.error().to_string();
  }
}

TEST(RedisClient, CommandsPipelinesAndErrorReplies) {
  redis_server server;
  core::run_until_complete([&]() -> core::task<void> {
    redis_client db(co_await core::this_executor(), endpoint_of(server, 3));
    auto set = co_await db.command(words("SET", "k", std::string("a\0b", 3)));
    EXPECT_TRUE(set.ok()) << set.error().to_string();
    auto get = co_await db.command(words("GET", "k"));
    EXPECT_EQ(get->str, std::string("a\0b", 3));  // binary-safe
    auto tx = co_await db.pipeline(commands(words("MULTI"), words("INCR", "n"), words("INCR", "n"), words("EXEC")));
    EXPECT_TRUE(tx.ok());
    EXPECT_EQ(tx->back().type, redis_reply::kind::array);
    EXPECT_EQ(tx->back().elements[1].integer, 2);
    auto wrong = co_await db.command(words("LPUSH", "k", "x"));  // k is a string
    EXPECT_TRUE(wrong.ok());
    EXPECT_TRUE(wrong->is_error());
    EXPECT_NE(wrong->str.find("WRONGTYPE"), std::string::npos);
    EXPECT_TRUE((co_await db.command(words("GET", "missing")))->is_nil());
  }());
  // SELECT took effect: the key is in db 3.
  EXPECT_EQ(server.cli("-n 3 EXISTS k").out, "1\n");
  EXPECT_EQ(server.cli("-n 0 EXISTS k").out, "0\n");
}

TEST(RedisClient, ManyCoroutinesShareOneConnection) {
  redis_server server;
  core::run_until_complete([&]() -> core::task<void> {
    auto ex = co_await core::this_executor();
    redis_client db(ex, endpoint_of(server));
    std::vector<core::task_handle> workers;
    for (int w = 0; w < 20; ++w)
      // Parameters, not captures: a coroutine lambda's captures die with the lambda.
      workers.push_back(core::spawn(ex, [](redis_client& c, int list) -> core::task<void> {
        for (int i = 0; i < 50; ++i) {
          auto r = co_await c.command(words("RPUSH", "list" + std::to_string(list), std::to_string(i)));
          EXPECT_EQ(r->integer, i + 1);  // each coroutine sees its own replies, in order
        }
      }(db, w)));
    for (auto& h : workers) co_await h.join();
    EXPECT_EQ(db.get_connects(), 1u);
  }());
  EXPECT_EQ(server.cli("LRANGE list7 -1 -1").out, "49\n");
}

TEST(RedisClient, PasswordAndRefusal) {
  redis_server server("--requirepass s3cret");
  core::run_until_complete([&]() -> core::task<void> {
    auto ex = co_await core::this_executor();
    redis_client good(
        ex, redis_endpoint::parse("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/0").value());
    EXPECT_EQ((co_await good.command(words("PING")))->str, "PONG");
    redis_client bad(ex,
                     redis_endpoint::parse("redis://:wrong@127.0.0.1:" + std::to_string(server.port()) + "/0").value());
    auto r = co_await bad.command(words("PING"));
    EXPECT_FALSE(r.ok());
    if (r.ok()) co_return;
    EXPECT_NE(r.error().message().find("AUTH failed"), std::string::npos) << r.error().to_string();
  }());
}

TEST(RedisClient, NoServerIsAnErrorNotAHang) {
  int port;
  {
    redis_server gone;
    port = gone.port();
  }
  core::run_until_complete([&]() -> core::task<void> {
    redis_client db(co_await core::this_executor(),
                    redis_endpoint::parse("redis://127.0.0.1:" + std::to_string(port) + "/0").value());
    auto r = co_await db.command(words("PING"));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), scalekit::status_code::io_error) << r.error().to_string();
  }());
}

// (Coroutine bodies use EXPECT and co_return: ASSERT's plain `return` is not
// allowed in a coroutine.)

// The server restarts: the command in flight fails, the next one reconnects.
TEST(RedisClient, ReconnectsAfterTheServerComesBack) {
  redis_server server;
  core::run_until_complete([&]() -> core::task<void> {
    redis_client db(co_await core::this_executor(), endpoint_of(server));
    EXPECT_TRUE((co_await db.command(words("SET", "a", "1"))).ok());
    server.restart();
    for (int i = 0; i < 50; ++i) {
      auto r = co_await db.command(words("PING"));
      if (r.ok() && r->str == "PONG") break;
      co_await core::sleep_for(20ms);
    }
    auto r = co_await db.command(words("PING"));
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(db.get_connects(), 2u);
  }());
}

TEST(RedisSubscriber, ReceivesMessagesAndResubscribesAfterARestart) {
  redis_server server;
  core::run_until_complete([&]() -> core::task<void> {
    auto ex = co_await core::this_executor();
    std::vector<std::string> got;
    int resubscribed = 0;
    redis_subscriber sub(
        ex, endpoint_of(server), [&](const std::string& ch, const std::string& msg) { got.push_back(ch + "=" + msg); },
        [&] { ++resubscribed; });
    EXPECT_TRUE((co_await sub.subscribe(words("c1", "c2"))).ok());
    redis_client pub(ex, endpoint_of(server));
    co_await pub.command(words("PUBLISH", "c1", "one"));
    co_await pub.command(words("PUBLISH", "c3", "ignored"));
    co_await pub.command(words("PUBLISH", "c2", "two"));
    for (int i = 0; i < 100 && got.size() < 2; ++i) co_await core::sleep_for(5ms);
    EXPECT_EQ(got, (std::vector<std::string>{"c1=one", "c2=two"}));
    server.restart();
    for (int i = 0; i < 200 && resubscribed == 0; ++i) co_await core::sleep_for(10ms);
    EXPECT_EQ(resubscribed, 1);
    for (int i = 0; i < 50; ++i) {
      auto r = co_await pub.command(words("PUBLISH", "c2", "three"));
      if (r.ok()) break;
      co_await core::sleep_for(20ms);
    }
    for (int i = 0; i < 100 && got.size() < 3; ++i) co_await core::sleep_for(5ms);
    EXPECT_EQ(got.size(), 3u);
    if (got.size() != 3) co_return;
    EXPECT_EQ(got[2], "c2=three");
    sub.unsubscribe(words("c2"));
    co_await core::sleep_for(20ms);
    co_await pub.command(words("PUBLISH", "c2", "after"));
    co_await core::sleep_for(50ms);
    EXPECT_EQ(got.size(), 3u);
  }());
}
