#include "scalekit/taskqueue/worker.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "redis_server.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/redis.h"
#include "scalekit/taskqueue/registry.h"
#include "scalekit/taskqueue/result_meta.h"
#include "worker/context.h"
#include "worker/fetcher.h"
#include "worker/handler.h"
#include "worker/refresher.h"
#include "worker/restorer.h"

namespace celery = scalekit::taskqueue::celery;
namespace core = scalekit::core;
namespace detail = scalekit::taskqueue::detail;
using json = nlohmann::json;
using scalekit::taskqueue::redis_client;
using scalekit::taskqueue::redis_endpoint;
using scalekit::taskqueue::redis_reply;
using scalekit::taskqueue::words;
using scalekit::taskqueue::worker_options;
using scalekit::testing::redis_server;
using namespace std::chrono_literals;

namespace {

// Send `cmds` to `server` in one pipeline, from the test's thread: their replies.
std::vector<redis_reply> redis(const redis_server& server, std::vector<std::vector<std::string>> cmds) {
  std::vector<redis_reply> out;
  core::run_until_complete(
      [](redis_endpoint ep, std::vector<std::vector<std::string>> c, std::vector<redis_reply>& o) -> core::task<void> {
        redis_client db(co_await core::this_executor(), ep);
        auto r = co_await db.pipeline(std::move(c));
        if (r.ok()) o = std::move(r).value();
      }(redis_endpoint::parse(server.url()).value(), std::move(cmds), out));
  EXPECT_FALSE(out.empty()) << "redis did not answer";
  return out;
}
redis_reply redis1(const redis_server& server, std::vector<std::string> cmd) {
  auto r = redis(server, {std::move(cmd)});
  return r.empty() ? redis_reply{} : r[0];
}

struct message {
  std::string raw, id, tag;
};
message envelope(const std::string& task, const std::string& args, celery::publish_options o = {}) {
  message m;
  m.raw = celery::make_envelope(task, args, "{}", o, &m.id);
  m.tag = celery::parse_envelope(m.raw)->delivery_tag;
  return m;
}

// What a worker leaves in Redis when it reserves `m` at unix time `at`.
std::vector<std::vector<std::string>> reserved(const message& m, double at, const std::string& routing_key) {
  return {words("HSET", celery::unacked_key, m.tag, celery::unacked_entry(m.raw, "", routing_key)),
          words("ZADD", celery::unacked_index_key, detail::seconds_text(at), m.tag)};
}

void append(std::vector<std::vector<std::string>>& to, std::vector<std::vector<std::string>> more) {
  for (auto& c : more) to.push_back(std::move(c));
}

// Run `body` with a worker context on a fresh loop, as the worker's roles see it.
template <typename Body>
void with_context(const redis_server& server, const worker_options& o, Body body) {
  const detail::log_fn log = [](const std::string&) {};
  auto ex = core::make_inline_executor();
  core::run_until_complete([](const redis_server& s, const worker_options& opts, core::executor& e,
                              const detail::log_fn& l, Body b) -> core::task<void> {
    detail::worker_context w(opts, redis_endpoint::parse(s.url()).value(), e, l, 0, co_await core::this_executor());
    co_await b(w);
  }(server, o, *ex, log, std::move(body)));
}

}  // namespace

// The take pops and reserves in one atomic step: nothing it returns is
// outside `unacked`, unless it could not read it.
TEST(Worker, TheTakeReservesWhatItPopsInTheSameStep) {
  redis_server server;
  celery::publish_options p3;
  p3.priority = 3;
  const message a = envelope("t.a", "[1]"), b = envelope("t.b", "[2]", p3);
  redis(server, {words("LPUSH", "celery", a.raw), words("LPUSH", "celery", "not json"),
                 words("LPUSH", celery::queue_key("celery", 3), b.raw)});
  std::vector<detail::fetched> first, second;
  with_context(server, worker_options{}, [&](detail::worker_context& w) -> core::task<void> {
    detail::message_handler h(w);
    detail::fetcher f(w, h);
    const auto lists = celery::queue_keys("celery");
    first = (co_await f.take(lists, 2)).value();
    co_await w.cmd.command(words("SCRIPT", "FLUSH"));  // as a restarted server forgets it
    second = (co_await f.take(lists, 5)).value();
    co_await f.put_back(second);
  });
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].raw, a.raw);  // the oldest of the highest-priority list first
  EXPECT_EQ(first[0].reserved_tag, a.tag);
  EXPECT_EQ(first[0].id, a.id);
  EXPECT_EQ(first[0].deliveries, 1);
  EXPECT_EQ(first[1].raw, "not json");
  EXPECT_EQ(first[1].reserved_tag, "");  // left to the handler, which dead-letters it
  // kombu's reservation, byte for byte as the handler would write it.
  EXPECT_EQ(redis1(server, words("HGET", celery::unacked_key, a.tag)).str, celery::unacked_entry(a.raw, "", "celery"));
  EXPECT_FALSE(redis1(server, words("ZSCORE", celery::unacked_index_key, a.tag)).is_nil());
  EXPECT_EQ(redis1(server, words("GET", celery::deliveries_key(a.id))).str, "1");
  // The second take found b; put back (a stop), it is where it was, unreserved and uncounted.
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].list_key, celery::queue_key("celery", 3));
  EXPECT_EQ(second[0].reserved_tag, b.tag);
  EXPECT_EQ(redis1(server, words("LRANGE", celery::queue_key("celery", 3), "0", "-1")).elements.at(0).str, b.raw);
  EXPECT_EQ(redis1(server, words("HEXISTS", celery::unacked_key, b.tag)).integer, 0);
  EXPECT_EQ(redis1(server, words("GET", celery::deliveries_key(b.id))).str, "0");
  EXPECT_EQ(redis1(server, words("HLEN", celery::unacked_key)).integer, 1);
}

TEST(Worker, TheRestorerPutsStaleReservationsBackMarkedRedelivered) {
  redis_server server;
  const double now = celery::unix_now();
  celery::publish_options to_other;
  to_other.queue = "other";
  to_other.priority = 9;
  // Two reservations of a worker that died two hours ago, one this worker is
  // running (its refresher is late), one fresh, and an index entry without a message.
  const message a = envelope("t.a", "[1]"), b = envelope("t.b", "[2]", to_other), ours = envelope("t.c", "[3]"),
                fresh = envelope("t.d", "[4]");
  std::vector<std::vector<std::string>> setup;
  append(setup, reserved(a, now - 7200, "celery"));
  append(setup, reserved(b, now - 7200, "other"));
  append(setup, reserved(ours, now - 7200, "celery"));
  append(setup, reserved(fresh, now, "celery"));
  setup.push_back(words("ZADD", celery::unacked_index_key, "1", "ghost"));
  redis(server, std::move(setup));

  worker_options o;
  o.visibility_timeout = 3600s;
  std::uint64_t restored = 0;
  with_context(server, o, [&](detail::worker_context& w) -> core::task<void> {
    w.running[ours.tag].id = ours.id;
    detail::restorer r(w);
    co_await r.restore_stale();
    restored = w.stats.restored;
  });

  EXPECT_EQ(restored, 2u);
  const auto back_a = redis1(server, words("LRANGE", "celery", "0", "-1"));
  ASSERT_EQ(back_a.elements.size(), 1u);
  auto m = celery::parse_envelope(back_a.elements[0].str);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->id, a.id);
  EXPECT_TRUE(m->redelivered);
  const auto back_b = redis1(server, words("LRANGE", celery::queue_key("other", 9), "0", "-1"));
  ASSERT_EQ(back_b.elements.size(), 1u);  // to its own queue and priority list
  EXPECT_EQ(celery::parse_envelope(back_b.elements[0].str)->id, b.id);
  EXPECT_EQ(redis1(server, words("HLEN", celery::unacked_key)).integer, 2);  // ours and the fresh one stay
  EXPECT_EQ(redis1(server, words("HEXISTS", celery::unacked_key, ours.tag)).integer, 1);
  EXPECT_EQ(redis1(server, words("HEXISTS", celery::unacked_key, fresh.tag)).integer, 1);
  EXPECT_TRUE(redis1(server, words("ZSCORE", celery::unacked_index_key, "ghost")).is_nil());  // cleaned up
  EXPECT_EQ(redis1(server, words("EXISTS", celery::unacked_mutex_key)).integer, 0);           // lock released
}

TEST(Worker, TheRestorerLeavesEverythingToTheHolderOfTheLock) {
  redis_server server;
  const message a = envelope("t.a", "[1]");
  auto setup = reserved(a, celery::unix_now() - 7200, "celery");
  setup.push_back(words("SET", celery::unacked_mutex_key, "another-worker"));
  redis(server, std::move(setup));
  std::uint64_t restored = 1;
  with_context(server, worker_options{}, [&](detail::worker_context& w) -> core::task<void> {
    detail::restorer r(w);
    co_await r.restore_stale();
    restored = w.stats.restored;
  });
  EXPECT_EQ(restored, 0u);
  EXPECT_EQ(redis1(server, words("LLEN", "celery")).integer, 0);
  EXPECT_EQ(redis1(server, words("GET", celery::unacked_mutex_key)).str, "another-worker");  // not ours to release
}

TEST(Worker, AtShutdownUnfinishedReservationsGoBackOnceWithoutCountingTheDelivery) {
  redis_server server;
  celery::publish_options p3;
  p3.priority = 3;
  const message running = envelope("t.slow", "[1]", p3), finished = envelope("t.done", "[2]");
  auto setup = reserved(running, celery::unix_now(), "celery");
  append(setup, reserved(finished, celery::unix_now(), "celery"));
  setup.push_back(words("SET", celery::deliveries_key(running.id), "2"));
  redis(server, std::move(setup));

  std::uint64_t requeued = 0;
  bool abandoned = false;
  with_context(server, worker_options{}, [&](detail::worker_context& w) -> core::task<void> {
    auto& r = w.running[running.tag];
    r.raw = running.raw;
    r.list_key = celery::queue_key("celery", 3);
    r.id = running.id;
    auto& f = w.running[finished.tag];
    f.raw = finished.raw;
    f.list_key = "celery";
    f.id = finished.id;
    f.finished = true;  // its result is being stored: it must not run again
    w.stop();
    detail::restorer restorer(w);
    co_await restorer.requeue_unfinished();
    co_await restorer.requeue_unfinished();  // once only
    requeued = w.stats.requeued;
    abandoned = w.running[running.tag].abandoned;
  });

  EXPECT_EQ(requeued, 1u);
  EXPECT_TRUE(abandoned);
  const auto list = redis1(server, words("LRANGE", celery::queue_key("celery", 3), "0", "-1"));
  ASSERT_EQ(list.elements.size(), 1u);
  EXPECT_TRUE(celery::parse_envelope(list.elements[0].str)->redelivered);
  EXPECT_EQ(redis1(server, words("GET", celery::deliveries_key(running.id))).str, "1");
  EXPECT_EQ(redis1(server, words("HEXISTS", celery::unacked_key, running.tag)).integer, 0);
  EXPECT_EQ(redis1(server, words("HEXISTS", celery::unacked_key, finished.tag)).integer, 1);
  EXPECT_EQ(redis1(server, words("LLEN", "celery")).integer, 0);
}

TEST(Worker, TheRefresherKeepsRunningReservationsYoungAndAddsNone) {
  redis_server server;
  redis(server, {words("ZADD", celery::unacked_index_key, "1", "running", "1", "finished")});
  worker_options o;
  o.visibility_timeout = 1s;  // a refresh every 250 ms
  with_context(server, o, [&](detail::worker_context& w) -> core::task<void> {
    w.running["running"].id = "r";
    w.running["finished"].finished = true;
    w.running["acked"].id = "gone from the index meanwhile";
    detail::refresher r(w);
    auto h = core::spawn(co_await core::this_executor(), r.run());
    co_await core::sleep_for(700ms);
    w.stop();
    co_await h.join();
  });
  const double now = celery::unix_now();
  EXPECT_GT(std::stod(redis1(server, words("ZSCORE", celery::unacked_index_key, "running")).str), now - 5);
  EXPECT_EQ(std::stod(redis1(server, words("ZSCORE", celery::unacked_index_key, "finished")).str), 1.0);
  EXPECT_TRUE(redis1(server, words("ZSCORE", celery::unacked_index_key, "acked")).is_nil());  // ZADD XX
}

TEST(Worker, EachMessageIsDecidedStoredAndAckedInOneGo) {
  static std::once_flag once;
  std::call_once(once, [] {
    celery::register_task("test_worker.mul", [](std::string_view args, std::string_view) {
      const auto a = json::parse(args);
      return std::to_string(a[0].get<long>() * a[1].get<long>());
    });
  });
  redis_server server;
  celery::publish_options quiet;
  quiet.ignore_result = true;
  const message good = envelope("test_worker.mul", "[6, 7]"), unknown = envelope("test_worker.nope", "[]"),
                silent = envelope("test_worker.mul", "[1, 1]", quiet), poison = envelope("test_worker.mul", "[2, 2]");
  auto expired_json = json::parse(envelope("test_worker.mul", "[3, 3]").raw);
  expired_json["headers"]["expires"] = "2001-01-01T00:00:00+00:00";
  const auto expired_id = expired_json["headers"]["id"].get<std::string>();
  std::vector<std::vector<std::string>> setup;
  setup.push_back(words("SET", celery::deliveries_key(poison.id), "3"));  // three workers died running it
  for (const std::string& raw :
       {good.raw, unknown.raw, silent.raw, poison.raw, expired_json.dump(), std::string("not a message")})
    setup.push_back(words("LPUSH", "celery", raw));
  redis(server, std::move(setup));

  worker_options o;
  o.broker = server.url();
  o.stop_after = 6;
  auto ex = core::make_thread_executor(2);
  core::collecting_observer obs;
  auto report = scalekit::taskqueue::run_worker(o, *ex, obs);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  const auto count = [&](const char* key) { return std::get<std::uint64_t>(*report->find(key)); };
  EXPECT_EQ(count("received"), 6u);
  EXPECT_EQ(count("succeeded"), 2u);  // good, silent
  EXPECT_EQ(count("failed"), 4u);     // unknown, poison, expired, the bad message
  EXPECT_EQ(count("dead_lettered"), 2u);
  EXPECT_EQ(count("requeued"), 0u);

  auto state = [&](const std::string& id) {
    const auto r = redis1(server, words("GET", celery::meta_key(id)));
    return r.is_nil() ? celery::task_state{} : celery::parse_meta(r.str).value();
  };
  EXPECT_EQ(state(good.id).status, "SUCCESS");
  EXPECT_EQ(state(good.id).result_json, "42");
  EXPECT_EQ(state(unknown.id).exc_type, "NotRegistered");
  EXPECT_EQ(state(poison.id).exc_type, "WorkerLostError");
  EXPECT_EQ(state(expired_id).status, "REVOKED");
  EXPECT_EQ(state(silent.id).status, "");  // ignore_result: nothing stored
  EXPECT_GT(redis1(server, words("TTL", celery::meta_key(good.id))).integer, 0);

  // Every message acknowledged, its delivery count gone; nothing left queued.
  EXPECT_EQ(redis1(server, words("HLEN", celery::unacked_key)).integer, 0);
  EXPECT_EQ(redis1(server, words("ZCARD", celery::unacked_index_key)).integer, 0);
  for (const std::string& id : {good.id, unknown.id, silent.id, poison.id, expired_id})
    EXPECT_EQ(redis1(server, words("EXISTS", celery::deliveries_key(id))).integer, 0) << id;
  EXPECT_EQ(redis1(server, words("LLEN", "celery")).integer, 0);
  EXPECT_EQ(redis1(server, words("LLEN", celery::dead_letter_key("celery"))).integer, 2);
  EXPECT_EQ(redis1(server, words("SISMEMBER", celery::binding_key("celery"), celery::binding_member("celery"))).integer,
            1);
  // The worker said goodbye: its status key is gone.
  EXPECT_TRUE(redis1(server, words("KEYS", std::string(celery::worker_key_prefix) + "*")).elements.empty());
}
