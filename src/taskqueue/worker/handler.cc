#include "handler.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/registry.h"
#include "scalekit/taskqueue/result_meta.h"

namespace scalekit::taskqueue::detail {

namespace {

constexpr auto dead_letter_expiry = std::chrono::hours(24 * 7);

std::string preview(const std::string& s) { return s.size() <= 80 ? s : s.substr(0, 77) + "..."; }

std::string label(const celery::task_message& m) { return "Task " + m.task + "[" + m.id + "]"; }

}  // namespace

core::task<void> message_handler::handle(std::string raw, std::string list_key) {
  slot_guard slot{w_};
  ++w_.stats.received;
  std::string id;
  auto parsed = celery::parse_envelope(raw, &id);
  const std::string queue = celery::queue_of_key(list_key);
  if (!parsed.ok()) {
    co_await refuse(queue, raw, id, parsed.error().message());
    co_return;
  }
  const celery::task_message m = std::move(parsed).value();
  const long long deliveries = co_await reserve(m, std::move(raw), queue);
  const verdict v = co_await decide(m, deliveries, queue, slot);
  if (v.dropped) co_return;
  // A named local, not a conditional expression inside the co_await: GCC 12
  // destroys such a temporary twice (a workaround listed in docs/DESIGN.md).
  const std::string stored = m.ignore_result ? std::string() : v.meta;
  slot.release();
  co_await finish(m.delivery_tag, m.id, stored);
  w_.running.erase(m.delivery_tag);
  ++(v.success ? w_.stats.succeeded : w_.stats.failed);
}

// A message that is not a task we can read: dead-lettered, and its FAILURE
// stored when its id could be read.
core::task<void> message_handler::refuse(const std::string& queue, const std::string& raw, const std::string& id,
                                         const std::string& why) {
  w_.log("bad message in queue '" + queue + "'" + (id.empty() ? "" : " (task " + id + ")") + ": " + why +
         "; moved to " + celery::dead_letter_key(queue));
  co_await dead_letter(queue, raw, why);
  if (!id.empty()) {
    const std::string meta = celery::failure_meta(id, "DecodeError", "kombu.exceptions", why, "", "");
    co_await store(id, meta);
  }
  ++w_.stats.failed;
}

// Reserve it (kombu's unacked bookkeeping) and count its deliveries, in one
// transaction: a message that has killed its worker too often is poison.
// Returns its deliveries, this one included (1 when Redis did not say).
core::task<long long> message_handler::reserve(const celery::task_message& m, std::string raw,
                                               const std::string& queue) {
  const std::string& tag = m.delivery_tag;
  const auto& o = w_.options;
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("MULTI"));
  cmds.push_back(words("ZADD", celery::unacked_index_key, seconds_text(celery::unix_now()), tag));
  cmds.push_back(words("HSET", celery::unacked_key, tag, celery::unacked_entry(raw, m.exchange, m.routing_key)));
  cmds.push_back(words("INCR", celery::deliveries_key(m.id)));
  cmds.push_back(words("EXPIRE", celery::deliveries_key(m.id),
                       std::to_string(o.visibility_timeout.count() * (o.max_deliveries + 1) + 86400)));
  cmds.push_back(words("EXEC"));
  auto reserved = co_await w_.must_run(w_.cmd, std::move(cmds), false);
  long long deliveries = 1;
  if (reserved && reserved->back().type == redis_reply::kind::array && reserved->back().elements.size() == 4)
    deliveries = reserved->back().elements[2].integer;
  auto& res = w_.running[tag];
  res.raw = std::move(raw);
  res.list_key = celery::queue_key(queue, m.priority);
  res.id = m.id;
  if (o.log_tasks) w_.log(label(m) + " received");
  co_return deliveries;
}

// What to store for a reserved message: decided without running it
// (unregistered, expired, poison), or by running it.
core::task<message_handler::verdict> message_handler::decide(const celery::task_message& m, long long deliveries,
                                                             const std::string& queue, slot_guard& slot) {
  verdict v;
  if (!celery::is_registered(m.task)) {
    w_.log("received unregistered task of type '" + m.task + "' (" + m.id + "): stored as FAILURE NotRegistered");
    v.meta = celery::failure_meta(m.id, "NotRegistered", "celery.exceptions", m.task, "", m.group);
  } else if (m.expires && celery::unix_now() > *m.expires) {
    v.meta = celery::revoked_meta(m.id, "expired", m.group);
  } else if (deliveries > w_.options.max_deliveries) {
    const std::string why = "task " + m.task + " was delivered " + std::to_string(deliveries) +
                            " times and each delivery ended with its worker's death";
    w_.log(label(m) + ": " + why + "; moved to " + celery::dead_letter_key(queue));
    co_await dead_letter(queue, w_.running[m.delivery_tag].raw, why);
    v.meta = celery::failure_meta(m.id, "WorkerLostError", "billiard.exceptions", why, "", m.group);
  } else {
    v = co_await run(m, slot);
  }
  co_return v;
}

// Wait for its eta, run it on the executor, and turn its outcome into a meta.
core::task<message_handler::verdict> message_handler::run(const celery::task_message& m, slot_guard& slot) {
  verdict v;
  while (m.eta && celery::unix_now() < *m.eta && !w_.stopping()) {
    const double wait_s = std::min(1.0, *m.eta - celery::unix_now());
    co_await core::sleep_for(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(wait_s)));
  }
  if (w_.stopping() && m.eta && celery::unix_now() < *m.eta) {  // still waiting: requeued at shutdown
    v.dropped = true;
    co_return v;
  }
  if (w_.options.TEST_task_delay.count() > 0) co_await core::sleep_for(w_.options.TEST_task_delay);
  const auto t0 = steady_clock::now();
  auto r = co_await core::async_call(w_.executor, celery::core_task_name(m.task),
                                     celery::encode_call(m.args_json, m.kwargs_json));
  const double took = std::chrono::duration<double>(steady_clock::now() - t0).count();
  slot.release();  // the slot is free for the next message while this result is stored
  auto it = w_.running.find(m.delivery_tag);
  if (it == w_.running.end() || it->second.abandoned) {  // requeued at shutdown: not ours any more
    v.dropped = true;
    co_return v;
  }
  it->second.finished = true;
  celery::outcome out;
  if (r.ok()) {
    out = celery::decode_outcome(r.value());
  } else {
    out.exc_type = "WorkerLostError";
    out.exc_module = "billiard.exceptions";
    out.message = r.error().message();
  }
  v.success = out.ok;
  if (out.ok) {
    v.meta = celery::success_meta(m.id, out.result_json, m.group);
    if (w_.options.log_tasks)
      w_.log(label(m) + " succeeded in " + seconds_text(took) + "s: " + preview(out.result_json));
  } else {
    const std::string traceback = "Traceback (most recent call last):\n  (in scalekit worker " + w_.name + ")\n" +
                                  out.exc_type + ": " + out.message + "\n";
    v.meta = celery::failure_meta(m.id, out.exc_type, out.exc_module, out.message, traceback, m.group);
    w_.log(label(m) + " raised " + out.exc_type + ": " + out.message);
  }
  co_return v;
}

core::task<void> message_handler::store(const std::string& id, const std::string& meta) {
  const std::string key = celery::meta_key(id);
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("MULTI"));
  cmds.push_back(words("SETEX", key, std::to_string(w_.options.result_expires.count()), meta));
  cmds.push_back(words("PUBLISH", key, meta));
  cmds.push_back(words("EXEC"));
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
}

// Store the result (unless `meta` is empty: ignore_result) and acknowledge the
// message, in one transaction: a result is never stored without its ack, nor
// acked without its result.
core::task<void> message_handler::finish(const std::string& tag, const std::string& id, const std::string& meta) {
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("MULTI"));
  if (!meta.empty()) {
    const std::string key = celery::meta_key(id);
    cmds.push_back(words("SETEX", key, std::to_string(w_.options.result_expires.count()), meta));
    cmds.push_back(words("PUBLISH", key, meta));
  }
  cmds.push_back(words("ZREM", celery::unacked_index_key, tag));
  cmds.push_back(words("HDEL", celery::unacked_key, tag));
  cmds.push_back(words("DEL", celery::deliveries_key(id)));
  cmds.push_back(words("EXEC"));
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
}

core::task<void> message_handler::dead_letter(const std::string& queue, const std::string& raw,
                                              const std::string& why) {
  nlohmann::json entry{{"reason", why}, {"worker", w_.name}, {"time", celery::unix_now()}, {"message", raw}};
  const std::string key = celery::dead_letter_key(queue);
  std::vector<std::vector<std::string>> cmds;
  // A message that is not UTF-8 (garbage) made dump() throw, and the message
  // was lost instead of dead-lettered: its invalid bytes become U+FFFD.
  cmds.push_back(words("LPUSH", key, entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  cmds.push_back(words("EXPIRE", key, std::to_string(std::chrono::seconds(dead_letter_expiry).count())));
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
  ++w_.stats.dead_lettered;
}

}  // namespace scalekit::taskqueue::detail
