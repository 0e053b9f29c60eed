// The Celery-compatible worker: one event loop (coroutines below) moves
// messages between Redis and a core executor, which runs the tasks.
//
//   fetcher    BRPOP while a slot is free; each message gets a `handle` coroutine
//   handle     parse, reserve, count deliveries, run, store the result, ack
//   refresher  keeps running tasks' reservations younger than the visibility timeout
//   restorer   puts stale reservations (of dead workers) back into their queues
//   heartbeat  a status key for `worker --status`, and Celery's heartbeat event
//
// Coroutines here are member functions with parameters, never capturing
// lambdas (a coroutine lambda's captures die with the lambda), and build
// their Redis commands in named locals (see taskqueue::words).

#include "scalekit/taskqueue/worker.h"

#include <sys/types.h>
#include <unistd.h>

#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/redis.h"
#include "scalekit/taskqueue/registry.h"
#include "scalekit/taskqueue/result_meta.h"

namespace scalekit::taskqueue {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using celery::dead_letter_key;
using celery::deliveries_key;
using celery::unacked_index_key;
using celery::unacked_key;
using celery::unacked_mutex_key;
using celery::worker_key_prefix;
constexpr auto dead_letter_expiry = std::chrono::hours(24 * 7);
constexpr auto heartbeat_every = 2s;
constexpr int heartbeat_expiry_s = 10;
const char* const unlock_script =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", s);
  return buf;
}

std::string preview(const std::string& s) { return s.size() <= 80 ? s : s.substr(0, 77) + "..."; }

// A message this worker has reserved.
struct reservation {
  std::string raw;       // the envelope as popped
  std::string list_key;  // where it goes back to if requeued
  std::string id;
  bool finished = false;   // its result is computed (being stored): never requeue it
  bool abandoned = false;  // requeued at shutdown: drop whatever the run returns
};

class worker_impl {
 public:
  worker_impl(const worker_options& o, redis_endpoint ep, core::executor& ex,
              const std::function<void(const std::string&)>& log, std::uint64_t stop_after)
      : o_(o),
        ep_(std::move(ep)),
        ex_(ex),
        log_(log),
        stop_after_(stop_after),
        concurrency_(std::max<std::size_t>(1, ex.concurrency())),
        name_(o.hostname.empty() ? "scalekit@" + celery::host_name() : o.hostname) {}

  core::task<void> main() {
    auto loop = co_await core::this_executor();
    pop_ = std::make_unique<redis_client>(loop, ep_);
    cmd_ = std::make_unique<redis_client>(loop, ep_);
    restore_ = std::make_unique<redis_client>(loop, ep_);
    slot_free_ = std::make_unique<asio::steady_timer>(loop);
    stopped_ = std::make_unique<asio::steady_timer>(loop, asio::steady_timer::time_point::max());
    asio::signal_set signals(loop, SIGINT, SIGTERM);
    signals.async_wait([this](const asio::error_code& ec, int sig) {
      if (ec) return;
      log_(std::string("got ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": finishing running tasks (grace " +
           std::to_string(o_.grace.count() / 1000.0).substr(0, 5) + " s)");
      stop();
    });
    started_ = celery::unix_now();
    log_("worker " + name_ + " consuming " + queue_list() + " from " + ep_.to_string() + " with " +
         std::to_string(concurrency_) + " slots (" + std::string(core::to_string(ex_.kind())) + ")");
    co_await declare_queues();

    std::vector<core::task_handle> background;
    background.push_back(core::spawn(loop, fetcher()));
    background.push_back(core::spawn(loop, refresher()));
    background.push_back(core::spawn(loop, restorer()));
    background.push_back(core::spawn(loop, heartbeat()));

    asio::error_code ignored;
    co_await stopped_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    signals.cancel();

    // Let running tasks finish within the grace period, then requeue the rest once.
    const auto deadline = clock::now() + o_.grace;
    while (alive_ > 0 && clock::now() < deadline) co_await core::sleep_for(20ms);
    co_await requeue_unfinished();
    for (auto& h : background) co_await h.join();
    co_await goodbye();
  }

  worker_stats stats() const {
    worker_stats s = stats_;
    const auto connects = pop_->get_connects() + cmd_->get_connects() + restore_->get_connects();
    s.reconnects = connects > 3 ? connects - 3 : 0;
    return s;
  }
  [[nodiscard]] bool abandoned_any() const { return stats_.requeued > 0; }

 private:
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_time_ = clock::now();
    stopped_->cancel();
    slot_free_->cancel();
  }

  std::string queue_list() const {
    std::string s;
    for (const auto& q : o_.queues) s += (s.empty() ? "" : ",") + q;
    return s;
  }

  // ---- broker health, logged once per outage ----
  void broker_failed(const status& s) {
    if (!broker_down_) log_("broker unreachable (" + s.message() + "); retrying");
    broker_down_ = true;
  }
  void broker_ok() {
    if (broker_down_) log_("broker reachable again");
    broker_down_ = false;
  }

  // Run `cmds` until Redis takes them, or (when `until_stop`) the worker
  // stops: their replies, or nothing when it gave up.
  core::task<std::optional<std::vector<redis_reply>>> must_run(redis_client& db,
                                                               std::vector<std::vector<std::string>> cmds,
                                                               bool until_stop) {
    auto backoff = 50ms;
    for (;;) {
      auto r = co_await db.pipeline(cmds);
      if (r.ok()) {
        broker_ok();
        co_return std::move(r).value();
      }
      broker_failed(r.error());
      if (until_stop && stopping_ && clock::now() > hard_deadline()) co_return std::nullopt;
      co_await core::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
    }
  }
  clock::time_point hard_deadline() const { return stop_time_ + o_.grace + 5s; }

  core::task<void> declare_queues() {
    // kombu's routing table, so that Python tools that route by binding see the queues.
    std::vector<std::vector<std::string>> cmds;
    for (const auto& q : o_.queues) cmds.push_back(words("SADD", celery::binding_key(q), celery::binding_member(q)));
    auto r = co_await cmd_->pipeline(std::move(cmds));
    if (!r.ok()) broker_failed(r.error());
  }

  // ---- fetching ----
  // Messages are taken only while a slot is free (prefetch_multiplier per
  // slot, 1 by default): a busy worker never holds tasks another worker could
  // start. Several free slots are filled with one BLMPOP (Redis 7); older
  // servers get one BRPOP per message.
  core::task<void> fetcher() {
    std::vector<std::string> keys;
    for (const auto& q : o_.queues)
      for (auto& k : celery::queue_keys(q)) keys.push_back(std::move(k));
    const std::size_t limit = concurrency_ * static_cast<std::size_t>(std::max(1, o_.prefetch_multiplier));
    auto backoff = 50ms;
    bool blmpop = true;
    const auto loop = co_await core::this_executor();
    while (!stopping_) {
      if (busy_ >= limit) {
        slot_free_->expires_after(1s);
        asio::error_code ignored;
        co_await slot_free_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        continue;
      }
      const std::size_t want = limit - busy_;
      std::vector<std::string> cmd;
      if (blmpop && want > 1) {
        cmd = words("BLMPOP", "1", std::to_string(keys.size()));  // a 1 s wait, so that a stop is noticed
        cmd.insert(cmd.end(), keys.begin(), keys.end());
        cmd.push_back("RIGHT");
        cmd.push_back("COUNT");
        cmd.push_back(std::to_string(want));
      } else {
        cmd = words("BRPOP");
        cmd.insert(cmd.end(), keys.begin(), keys.end());
        cmd.push_back("1");
      }
      auto r = co_await pop_->command(std::move(cmd));
      if (!r.ok()) {
        broker_failed(r.error());
        co_await core::sleep_for(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
        continue;
      }
      backoff = 50ms;
      broker_ok();
      if (r->is_error()) {
        if (blmpop && want > 1 && r->str.find("unknown command") != std::string::npos) {
          blmpop = false;  // Redis before 7.0
          continue;
        }
        log_("fetching failed: " + r->str);
        co_await core::sleep_for(1s);
        continue;
      }
      if (r->type != redis_reply::kind::array || r->elements.size() != 2) continue;  // a timeout
      last_fetch_ = celery::unix_now();
      std::string& key = r->elements[0].str;
      if (r->elements[1].type == redis_reply::kind::array) {  // BLMPOP: [key, [messages...]]
        for (auto& msg : r->elements[1].elements) {
          ++busy_;
          ++alive_;
          core::spawn(loop, handle(std::move(msg.str), key));
        }
      } else {  // BRPOP: [key, message]
        ++busy_;
        ++alive_;
        core::spawn(loop, handle(std::move(r->elements[1].str), std::move(key)));
      }
    }
  }

  // ---- one message ----
  // Gives the message's slot back once (when its task has run, or was
  // decided without running), and counts the handle done when it ends.
  struct slot_guard {
    worker_impl& w;
    bool held = true;
    void release() {
      if (!held) return;
      held = false;
      --w.busy_;
      w.slot_free_->cancel();
    }
    ~slot_guard() {
      release();
      w.finished_one();
    }
  };

  core::task<void> handle(std::string raw, std::string list_key) {
    slot_guard slot{*this};
    ++stats_.received;
    std::string id;
    auto parsed = celery::parse_envelope(raw, &id);
    const std::string queue = celery::queue_of_key(list_key);
    if (!parsed.ok()) {
      const std::string why = parsed.error().message();
      log_("bad message in queue '" + queue + "'" + (id.empty() ? "" : " (task " + id + ")") + ": " + why +
           "; moved to " + dead_letter_key(queue));
      co_await dead_letter(queue, raw, why);
      if (!id.empty()) {
        const std::string meta = celery::failure_meta(id, "DecodeError", "kombu.exceptions", why, "", "");
        co_await store(id, meta);
      }
      ++stats_.failed;
      co_return;
    }
    celery::task_message m = std::move(parsed).value();
    const std::string tag = m.delivery_tag;
    const std::string label = "Task " + m.task + "[" + m.id + "]";
    // Reserve it (kombu's unacked bookkeeping) and count its deliveries, in
    // one transaction: a message that has killed its worker too often is poison.
    std::vector<std::vector<std::string>> reserve;
    reserve.push_back(words("MULTI"));
    reserve.push_back(words("ZADD", unacked_index_key, seconds_text(celery::unix_now()), tag));
    reserve.push_back(words("HSET", unacked_key, tag, celery::unacked_entry(raw, m.exchange, m.routing_key)));
    reserve.push_back(words("INCR", deliveries_key(m.id)));
    reserve.push_back(words("EXPIRE", deliveries_key(m.id),
                            std::to_string(o_.visibility_timeout.count() * (o_.max_deliveries + 1) + 86400)));
    reserve.push_back(words("EXEC"));
    auto reserved = co_await must_run(*cmd_, std::move(reserve), false);
    long long deliveries = 1;
    if (reserved && reserved->back().type == redis_reply::kind::array && reserved->back().elements.size() == 4)
      deliveries = reserved->back().elements[2].integer;
    auto& res = running_[tag];
    res.raw = std::move(raw);
    res.list_key = celery::queue_key(queue, m.priority);
    res.id = m.id;
    if (o_.log_tasks) log_(label + " received");

    std::string meta;
    bool success = false;
    if (!celery::is_registered(m.task)) {
      log_("received unregistered task of type '" + m.task + "' (" + m.id + "): stored as FAILURE NotRegistered");
      meta = celery::failure_meta(m.id, "NotRegistered", "celery.exceptions", m.task, "", m.group);
    } else if (m.expires && celery::unix_now() > *m.expires) {
      meta = celery::revoked_meta(m.id, "expired", m.group);
    } else {
      if (deliveries > o_.max_deliveries) {
        const std::string why = "task " + m.task + " was delivered " + std::to_string(deliveries) +
                                " times and each delivery ended with its worker's death";
        log_(label + ": " + why + "; moved to " + dead_letter_key(queue));
        co_await dead_letter(queue, running_[tag].raw, why);
        meta = celery::failure_meta(m.id, "WorkerLostError", "billiard.exceptions", why, "", m.group);
      } else {
        while (m.eta && celery::unix_now() < *m.eta && !stopping_) {
          const double wait_s = std::min(1.0, *m.eta - celery::unix_now());
          co_await core::sleep_for(
              std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(wait_s)));
        }
        if (stopping_ && m.eta && celery::unix_now() < *m.eta) co_return;  // still waiting: requeued at shutdown
        if (o_.TEST_task_delay.count() > 0) co_await core::sleep_for(o_.TEST_task_delay);
        const auto t0 = clock::now();
        auto r = co_await core::async_call(ex_, celery::core_task_name(m.task),
                                           celery::encode_call(m.args_json, m.kwargs_json));
        const double took = std::chrono::duration<double>(clock::now() - t0).count();
        slot.release();  // the slot is free for the next message while this result is stored
        auto it = running_.find(tag);
        if (it == running_.end() || it->second.abandoned) co_return;  // requeued at shutdown: not ours any more
        it->second.finished = true;
        celery::outcome out;
        if (r.ok()) {
          out = celery::decode_outcome(r.value());
        } else {
          out.exc_type = "WorkerLostError";
          out.exc_module = "billiard.exceptions";
          out.message = r.error().message();
        }
        success = out.ok;
        if (out.ok) {
          meta = celery::success_meta(m.id, out.result_json, m.group);
          if (o_.log_tasks) log_(label + " succeeded in " + seconds_text(took) + "s: " + preview(out.result_json));
        } else {
          const std::string traceback = "Traceback (most recent call last):\n  (in scalekit worker " + name_ + ")\n" +
                                        out.exc_type + ": " + out.message + "\n";
          meta = celery::failure_meta(m.id, out.exc_type, out.exc_module, out.message, traceback, m.group);
          log_(label + " raised " + out.exc_type + ": " + out.message);
        }
      }
    }
    // A named local, not a conditional expression inside the co_await: GCC 12
    // destroys such a temporary twice. TODO: Remove this workaround when the bug is fixed.
    const std::string stored = m.ignore_result ? std::string() : meta;
    slot.release();
    co_await finish(tag, m.id, stored);
    running_.erase(tag);
    ++(success ? stats_.succeeded : stats_.failed);
  }

  void finished_one() {
    --alive_;
    if (stop_after_ > 0 && stats_.succeeded + stats_.failed >= stop_after_) stop();
  }

  core::task<void> store(const std::string& id, const std::string& meta) {
    const std::string key = celery::meta_key(id);
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("MULTI"));
    cmds.push_back(words("SETEX", key, std::to_string(o_.result_expires.count()), meta));
    cmds.push_back(words("PUBLISH", key, meta));
    cmds.push_back(words("EXEC"));
    co_await must_run(*cmd_, std::move(cmds), true);
  }

  // Store the result (unless `meta` is empty: ignore_result) and acknowledge
  // the message, in one transaction: a result is never stored without its
  // ack, nor acked without its result.
  core::task<void> finish(const std::string& tag, const std::string& id, const std::string& meta) {
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("MULTI"));
    if (!meta.empty()) {
      const std::string key = celery::meta_key(id);
      cmds.push_back(words("SETEX", key, std::to_string(o_.result_expires.count()), meta));
      cmds.push_back(words("PUBLISH", key, meta));
    }
    cmds.push_back(words("ZREM", unacked_index_key, tag));
    cmds.push_back(words("HDEL", unacked_key, tag));
    cmds.push_back(words("DEL", deliveries_key(id)));
    cmds.push_back(words("EXEC"));
    co_await must_run(*cmd_, std::move(cmds), true);
  }

  core::task<void> dead_letter(const std::string& queue, const std::string& raw, const std::string& why) {
    nlohmann::json entry{{"reason", why}, {"worker", name_}, {"time", celery::unix_now()}, {"message", raw}};
    const std::string key = dead_letter_key(queue);
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("LPUSH", key, entry.dump()));
    cmds.push_back(words("EXPIRE", key, std::to_string(std::chrono::seconds(dead_letter_expiry).count())));
    co_await must_run(*cmd_, std::move(cmds), true);
    ++stats_.dead_lettered;
  }

  // ---- keeping reservations fresh, and restoring stale ones ----
  // Sleep for `d`, but wake within 100 ms of a stop.
  core::task<void> nap(std::chrono::milliseconds d) {
    for (auto slept = 0ms; slept < d && !stopping_; slept += 100ms)
      co_await core::sleep_for(std::min(d - slept, 100ms));
  }

  core::task<void> refresher() {
    const auto every = std::clamp<std::chrono::milliseconds>(o_.visibility_timeout / 4, 250ms, 60s);
    while (!stopping_) {
      co_await nap(every);
      if (stopping_) break;
      std::vector<std::string> zadd{"ZADD", unacked_index_key, "XX"};
      const std::string now = seconds_text(celery::unix_now());
      for (const auto& [tag, r] : running_) {
        if (r.finished) continue;
        zadd.push_back(now);
        zadd.push_back(tag);
      }
      if (zadd.size() > 3) co_await cmd_->command(std::move(zadd));
    }
  }

  core::task<void> restorer() {
    const auto every = std::clamp<std::chrono::milliseconds>(o_.visibility_timeout / 2, 500ms, 60s);
    while (!stopping_) {
      co_await restore_stale();
      co_await nap(every);
    }
  }

  // kombu's restore of timed-out messages: one worker at a time (a lock in
  // Redis), each message moved back with WATCH/MULTI so no two workers move it.
  core::task<void> restore_stale() {
    const std::string token = celery::new_uuid();
    auto locked = co_await restore_->command(words("SET", unacked_mutex_key, token, "PX", "300000", "NX"));
    if (!locked.ok() || locked->is_nil() || locked->is_error()) co_return;
    const std::string ceiling = seconds_text(celery::unix_now() - static_cast<double>(o_.visibility_timeout.count()));
    auto stale =
        co_await restore_->command(words("ZREVRANGEBYSCORE", unacked_index_key, ceiling, "0", "LIMIT", "0", "100"));
    if (stale.ok() && stale->type == redis_reply::kind::array) {
      for (const auto& t : stale->elements) {
        if (running_.count(t.str)) continue;  // ours, alive: the refresher was just late
        if (co_await move_back(t.str, true)) ++stats_.restored;
      }
    }
    co_await restore_->command(words("EVAL", unlock_script, "1", unacked_mutex_key, token));
  }

  // Move reservation `tag` from unacked back to the head of its queue. With
  // `watch`, only if no one else moved it first. Returns true when moved.
  core::task<bool> move_back(const std::string& tag, bool watch) {
    if (watch) co_await restore_->command(words("WATCH", unacked_key));
    auto entry = co_await restore_->command(words("HGET", unacked_key, tag));
    if (!entry.ok()) co_return false;
    if (entry->is_nil()) {
      co_await restore_->command(words("UNWATCH"));
      co_await restore_->command(words("ZREM", unacked_index_key, tag));  // an index entry without a message
      co_return false;
    }
    auto env = celery::envelope_of_unacked(entry->str);
    if (!env.ok()) {
      co_await restore_->command(words("UNWATCH"));
      co_return false;
    }
    std::string id;
    auto m = celery::parse_envelope(env.value(), &id);
    const std::string key = m.ok() ? celery::queue_key(m->routing_key, m->priority) : celery::queue_key("celery");
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("MULTI"));
    cmds.push_back(words("ZREM", unacked_index_key, tag));
    cmds.push_back(words("HDEL", unacked_key, tag));
    cmds.push_back(words("RPUSH", key, celery::mark_redelivered(env.value())));  // the consuming end: next out
    cmds.push_back(words("EXEC"));
    auto r = co_await restore_->pipeline(std::move(cmds));
    co_return r.ok() && r->back().type == redis_reply::kind::array;  // nil EXEC: someone else moved it
  }

  // Shutdown: every reservation not finished goes back once; its delivery is
  // not counted against it (no worker died).
  core::task<void> requeue_unfinished() {
    for (auto& [tag, r] : running_) {
      if (r.finished || r.abandoned) continue;
      r.abandoned = true;
      std::vector<std::vector<std::string>> cmds;
      cmds.push_back(words("MULTI"));
      cmds.push_back(words("ZREM", unacked_index_key, tag));
      cmds.push_back(words("HDEL", unacked_key, tag));
      cmds.push_back(words("RPUSH", r.list_key, celery::mark_redelivered(r.raw)));
      cmds.push_back(words("DECR", deliveries_key(r.id)));
      cmds.push_back(words("EXEC"));
      const auto done = co_await must_run(*restore_, std::move(cmds), true);
      if (done) {
        ++stats_.requeued;
        log_("requeued unfinished task " + r.id);
      }
    }
  }

  // ---- heartbeats ----
  core::task<void> heartbeat() {
    const std::string key = celery::worker_key(name_, ::getpid());
    const std::string channel = celery::heartbeat_channel(ep_.db);
    std::uint64_t clock_tick = 0;
    while (!stopping_) {
      const double now = celery::unix_now();
      nlohmann::json status{{"name", name_},
                            {"pid", ::getpid()},
                            {"queues", o_.queues},
                            {"concurrency", concurrency_},
                            {"pool", core::to_string(ex_.kind())},
                            {"active", busy_},
                            {"processed", stats_.succeeded + stats_.failed},
                            {"failed", stats_.failed},
                            {"started", started_},
                            {"last_fetch", last_fetch_},
                            {"time", now}};
      // Celery's own heartbeat event, for monitoring tools that listen for it.
      nlohmann::json event{{"hostname", name_},
                           {"utcoffset", 0},
                           {"pid", ::getpid()},
                           {"clock", ++clock_tick},
                           {"freq", 2.0},
                           {"active", busy_},
                           {"processed", stats_.succeeded + stats_.failed},
                           {"loadavg", nlohmann::json::array({0.0, 0.0, 0.0})},
                           {"sw_ident", "scalekit"},
                           {"sw_ver", "0.1"},
                           {"sw_sys", "Linux"},
                           {"timestamp", now},
                           {"type", "worker-heartbeat"}};
      nlohmann::json envelope{{"body", celery::base64_encode(event.dump())},
                              {"content-encoding", "utf-8"},
                              {"content-type", "application/json"},
                              {"headers", {{"hostname", name_}}},
                              {"properties",
                               {{"delivery_mode", 1},
                                {"delivery_info", {{"exchange", "celeryev"}, {"routing_key", "worker.heartbeat"}}},
                                {"priority", 0},
                                {"body_encoding", "base64"},
                                {"delivery_tag", celery::new_uuid()}}}};
      std::vector<std::vector<std::string>> cmds;
      cmds.push_back(words("SETEX", key, std::to_string(heartbeat_expiry_s), status.dump()));
      cmds.push_back(words("PUBLISH", channel, envelope.dump()));
      co_await cmd_->pipeline(std::move(cmds));  // a missed heartbeat is harmless
      co_await nap(heartbeat_every);
    }
  }

  core::task<void> goodbye() {
    const std::string key = celery::worker_key(name_, ::getpid());
    co_await cmd_->command(words("DEL", key));
  }

  const worker_options& o_;
  redis_endpoint ep_;
  core::executor& ex_;
  const std::function<void(const std::string&)>& log_;
  std::uint64_t stop_after_;
  std::size_t concurrency_;
  std::string name_;
  std::unique_ptr<redis_client> pop_, cmd_, restore_;  // BRPOP blocks its connection; WATCH needs its own
  std::unique_ptr<asio::steady_timer> slot_free_, stopped_;
  std::map<std::string, reservation> running_;  // by delivery tag
  std::size_t busy_ = 0;                        // messages holding a slot: reserved, not yet run
  std::size_t alive_ = 0;                       // handle() coroutines (storing results included)
  bool stopping_ = false, broker_down_ = false;
  clock::time_point stop_time_ = clock::time_point::max() - std::chrono::hours(1);
  double started_ = 0, last_fetch_ = 0;
  worker_stats stats_;
};

}  // namespace

result<worker_stats> run_worker(const worker_options& o, core::executor& ex,
                                const std::function<void(const std::string&)>& log, std::uint64_t stop_after) {
  auto ep = redis_endpoint::parse(o.broker);
  if (!ep.ok()) return ep.error();
  if (o.queues.empty()) return status::invalid_argument("no queue to consume");
  // Heap-held: when tasks were abandoned at shutdown the executor may still
  // complete them and post to this loop, so it must outlive them (see below).
  auto loop = std::make_unique<asio::io_context>(1);
  worker_impl w(o, std::move(ep).value(), ex, log, stop_after);
  std::exception_ptr failure;
  asio::co_spawn(*loop, w.main(), [&](std::exception_ptr e) {
    failure = e;
    loop->stop();
  });
  loop->run();
  if (failure) std::rethrow_exception(failure);
  const worker_stats s = w.stats();
  if (w.abandoned_any()) {
    // Calls still running in the executor will post their completion to this
    // loop; keep it (stopped) for the rest of the process, which is about to
    // end without waiting for them.
    static_cast<void>(loop.release());
  }
  return s;
}

// ---- status ----

result<status_report> query_status(const std::string& broker, const std::vector<std::string>& queues,
                                   std::chrono::seconds stall_after) {
  auto ep = redis_endpoint::parse(broker);
  if (!ep.ok()) return ep.error();
  status_report rep;
  status failure;
  core::run_until_complete([](redis_endpoint e, std::vector<std::string> qs, std::chrono::seconds stall,
                              status_report& out, status& err) -> core::task<void> {
    redis_client db(co_await core::this_executor(), e);
    // Live workers: their heartbeat keys.
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      auto r =
          co_await db.command(words("SCAN", cursor, "MATCH", std::string(worker_key_prefix) + "*", "COUNT", "1000"));
      if (!r.ok()) {
        err = r.error();
        co_return;
      }
      cursor = r->elements[0].str;
      for (const auto& k : r->elements[1].elements) keys.push_back(k.str);
    } while (cursor != "0");
    const double now = celery::unix_now();
    double newest_fetch = 0;
    for (const auto& k : keys) {
      auto v = co_await db.command(words("GET", k));
      if (!v.ok() || v->is_nil()) continue;
      try {
        const auto j = nlohmann::json::parse(v->str);
        status_report::worker_info w;
        w.name = j.value("name", k) + " (pid " + std::to_string(j.value("pid", 0)) + ")";
        w.active = j.value("active", 0ull);
        w.processed = j.value("processed", 0ull);
        w.failed = j.value("failed", 0ull);
        w.concurrency = j.value("concurrency", 0ull);
        w.pool = j.value("pool", std::string());
        const double last = j.value("last_fetch", 0.0);
        w.last_fetch_age_s = last > 0 ? now - last : -1;
        newest_fetch = std::max(newest_fetch, last);
        out.workers.push_back(std::move(w));
      } catch (const nlohmann::json::exception&) {
      }
    }
    for (const auto& q : qs) {
      for (const auto& key : celery::queue_keys(q)) {
        auto n = co_await db.command(words("LLEN", key));
        if (n.ok()) out.waiting += static_cast<std::uint64_t>(n->integer);
        auto oldest = co_await db.command(words("LINDEX", key, "-1"));  // the consuming end holds the oldest
        if (oldest.ok() && !oldest->is_nil()) {
          auto m = celery::parse_envelope(oldest->str);
          if (m.ok() && m->published)
            out.oldest_waiting_age_s = std::max(out.oldest_waiting_age_s, now - *m->published);
        }
      }
      auto dl = co_await db.command(words("LLEN", dead_letter_key(q)));
      if (dl.ok()) out.dead_letters += static_cast<std::uint64_t>(dl->integer);
    }
    auto un = co_await db.command(words("HLEN", unacked_key));
    if (un.ok()) out.unacked = static_cast<std::uint64_t>(un->integer);
    const double stalled = newest_fetch > 0 ? now - newest_fetch : -1;
    if (out.waiting > 0 && out.workers.empty()) {
      out.consuming = false;
      out.verdict = "not consuming: " + std::to_string(out.waiting) + " tasks wait and no worker is alive";
    } else if (out.waiting > 0 && (newest_fetch == 0 || stalled > static_cast<double>(stall.count()))) {
      out.consuming = false;
      out.verdict = "not consuming: " + std::to_string(out.waiting) + " tasks wait and no worker has fetched one for " +
                    (newest_fetch == 0 ? std::string("ever") : std::to_string(static_cast<long>(stalled)) + " s");
    } else {
      out.verdict = out.waiting == 0 && out.unacked == 0 ? "idle" : "ok";
    }
  }(std::move(ep).value(), queues, stall_after, rep, failure));
  if (!failure.ok()) return failure;
  return rep;
}

}  // namespace scalekit::taskqueue
