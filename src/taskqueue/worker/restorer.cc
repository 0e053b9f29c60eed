#include "restorer.h"

#include <algorithm>

#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::detail {

namespace {

using namespace std::chrono_literals;

const char* const unlock_script =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

}  // namespace

core::task<void> restorer::run() {
  const auto every = std::clamp<std::chrono::milliseconds>(w_.options.visibility_timeout / 2, 500ms, 60s);
  while (!w_.stopping()) {
    co_await restore_stale();
    co_await w_.nap(every);
  }
}

// kombu's restore of timed-out messages: one worker at a time (a lock in
// Redis), each message moved back with WATCH/MULTI so no two workers move it.
core::task<void> restorer::restore_stale() {
  redis_client& db = w_.restore;
  const std::string token = celery::new_uuid();
  // Held 10 s at most, not kombu's 300: a worker killed while it holds the
  // lock would stop every restore for that long. The lock only saves work;
  // WATCH/MULTI per message keeps two restorers from moving one message twice.
  auto locked = co_await db.command(words("SET", celery::unacked_mutex_key, token, "PX", "10000", "NX"));
  if (!locked.ok() || locked->is_nil() || locked->is_error()) co_return;
  const std::string ceiling =
      seconds_text(celery::unix_now() - static_cast<double>(w_.options.visibility_timeout.count()));
  auto stale =
      co_await db.command(words("ZREVRANGEBYSCORE", celery::unacked_index_key, ceiling, "0", "LIMIT", "0", "100"));
  if (stale.ok() && stale->type == redis_reply::kind::array) {
    for (const auto& t : stale->elements) {
      if (w_.running.count(t.str)) continue;  // ours, alive: the refresher was just late
      if (co_await move_back(t.str, true)) ++w_.stats.restored;
    }
  }
  co_await db.command(words("EVAL", unlock_script, "1", celery::unacked_mutex_key, token));
}

// Move reservation `tag` from unacked back to the head of its queue. With
// `watch`, only if no one else moved it first. Returns true when moved.
core::task<bool> restorer::move_back(const std::string& tag, bool watch) {
  redis_client& db = w_.restore;
  if (watch) co_await db.command(words("WATCH", celery::unacked_key));
  auto entry = co_await db.command(words("HGET", celery::unacked_key, tag));
  if (!entry.ok()) co_return false;
  if (entry->is_nil()) {
    co_await db.command(words("UNWATCH"));
    co_await db.command(words("ZREM", celery::unacked_index_key, tag));  // an index entry without a message
    co_return false;
  }
  auto env = celery::envelope_of_unacked(entry->str);
  if (!env.ok()) {
    co_await db.command(words("UNWATCH"));
    co_return false;
  }
  std::string id;
  auto m = celery::parse_envelope(env.value(), &id);
  const std::string key = m.ok() ? celery::queue_key(m->routing_key, m->priority) : celery::queue_key("celery");
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("MULTI"));
  cmds.push_back(words("ZREM", celery::unacked_index_key, tag));
  cmds.push_back(words("HDEL", celery::unacked_key, tag));
  cmds.push_back(words("RPUSH", key, celery::mark_redelivered(env.value())));  // the consuming end: next out
  cmds.push_back(words("EXEC"));
  auto r = co_await db.pipeline(std::move(cmds));
  co_return r.ok() && r->back().type == redis_reply::kind::array;  // nil EXEC: someone else moved it
}

// Shutdown: every reservation not finished goes back once; its delivery is
// not counted against it (no worker died).
core::task<void> restorer::requeue_unfinished() {
  for (auto& [tag, r] : w_.running) {
    if (r.finished || r.abandoned) continue;
    r.abandoned = true;
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("MULTI"));
    cmds.push_back(words("ZREM", celery::unacked_index_key, tag));
    cmds.push_back(words("HDEL", celery::unacked_key, tag));
    cmds.push_back(words("RPUSH", r.list_key, celery::mark_redelivered(r.raw)));
    cmds.push_back(words("DECR", celery::deliveries_key(r.id)));
    cmds.push_back(words("EXEC"));
    const auto done = co_await w_.must_run(w_.restore, std::move(cmds), true);
    if (done) {
      ++w_.stats.requeued;
      w_.log("requeued unfinished task " + r.id);
    }
  }
}

}  // namespace scalekit::taskqueue::detail
