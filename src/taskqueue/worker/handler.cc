#include "handler.h"

#include <algorithm>
#include <charconv>

#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/json_text.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/registry.h"
#include "scalekit/taskqueue/result_meta.h"

namespace scalekit::taskqueue::detail {

namespace {

std::string preview(const std::string& s) { return s.size() <= 80 ? s : s.substr(0, 77) + "..."; }

// Python's repr() of a float: the shortest text that reads back, with ".0" when integral.
std::string python_float(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string label(const celery::task_message& m) { return "Task " + m.task + "[" + m.id + "]"; }

}  // namespace

core::task<void> message_handler::handle(fetched f) {
  slot_guard slot{w_};
  ++w_.stats.received;
  std::string id;
  const std::string queue = celery::queue_of_key(f.list_key);
  if (f.refused_bytes > 0) {  // dead-lettered by the take script: its FAILURE is left to store
    const std::string why = "message of " + std::to_string(f.refused_bytes) + " bytes is larger than the limit of " +
                            std::to_string(w_.options.max_message_bytes) + " bytes";
    const std::string oversized_id = f.id;
    co_await refuse(std::move(f), oversized_id, why, "LimitExceeded");
    co_return;
  }
  auto parsed = celery::parse_envelope(f.raw, &id);
  if (!parsed.ok()) {
    co_await refuse(std::move(f), id, parsed.error().message(), "DecodeError");
    co_return;
  }
  const celery::task_message m = std::move(parsed).value();
  const long long deliveries = co_await reserve(m, std::move(f));
  // Celery announces a task revoked or expired on arrival with task-revoked only.
  const double now = celery::unix_now();
  if (w_.task_events && !w_.revoked.contains(m.id, now) && !(m.expires && now > *m.expires)) {
    const auto text_or_null = [](const std::string& t) {
      return t.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t);
    };
    // Named first: GCC 12 fails on a braced list inside a co_await expression.
    nlohmann::ordered_json fields;
    fields["uuid"] = m.id;
    fields["name"] = m.task;
    fields["args"] = m.argsrepr;
    fields["kwargs"] = m.kwargsrepr;
    fields["root_id"] = text_or_null(m.root_id);
    fields["parent_id"] = text_or_null(m.parent_id);
    fields["retries"] = m.retries;
    fields["eta"] = text_or_null(m.eta_text);
    fields["expires"] = text_or_null(m.expires_text);
    co_await send_event(w_, "task-received", std::move(fields));
  }
  verdict v = co_await decide(m, deliveries, queue, slot);
  if (!v) co_return;
  slot.release();
  const bool success = v->success();
  co_await finisher_.finish(m, std::move(*v));
  w_.running.erase(m.delivery_tag);
  ++(success ? w_.stats.succeeded : w_.stats.failed);
  ++w_.totals[m.task];
}

// A message that is not a task we can read, or that is too large: dead-lettered,
// and its FAILURE (kombu.exceptions.<exc_type>) stored when its id could be read.
core::task<void> message_handler::refuse(fetched f, const std::string& id, const std::string& why,
                                         const std::string& exc_type) {
  const std::string queue = celery::queue_of_key(f.list_key);
  w_.log("bad message in queue '" + queue + "'" + (id.empty() ? "" : " (task " + id + ")") + ": " + why +
         "; moved to " + celery::dead_letter_key(queue));
  if (f.refused_bytes == 0) {
    co_await dead_letter(queue, std::move(f.raw), why, f.reserved_tag);
  } else {
    ++w_.stats.dead_lettered;  // the take script did it, in Redis
  }
  if (!id.empty()) {
    const std::string meta = celery::failure_meta(id, exc_type, "kombu.exceptions", why, "", "");
    co_await store(id, meta);
  }
  ++w_.stats.failed;
}

// Reserve it (kombu's unacked bookkeeping) and count its deliveries, in one
// transaction: a message that has killed its worker too often is poison.
// Returns its deliveries, this one included (1 when Redis did not say).
core::task<long long> message_handler::reserve(const celery::task_message& m, fetched f) {
  const std::string& tag = m.delivery_tag;
  const std::string queue = celery::queue_of_key(f.list_key);
  long long deliveries = f.deliveries > 0 ? f.deliveries : 1;
  // The take reserved it, unless it could not read it or read another tag
  // than ours (a hostile envelope with a duplicated key): then here.
  if (f.reserved_tag != tag) {
    const auto& o = w_.options;
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("MULTI"));
    cmds.push_back(words("ZADD", celery::unacked_index_key, seconds_text(celery::unix_now()), tag));
    cmds.push_back(words("HSET", celery::unacked_key, tag, celery::unacked_entry(f.raw, m.exchange, m.routing_key)));
    cmds.push_back(words("INCR", celery::deliveries_key(m.id)));
    cmds.push_back(words("EXPIRE", celery::deliveries_key(m.id),
                         std::to_string(o.visibility_timeout.count() * (o.max_deliveries + 1) + 86400)));
    if (!f.reserved_tag.empty()) {
      cmds.push_back(words("ZREM", celery::unacked_index_key, f.reserved_tag));
      cmds.push_back(words("HDEL", celery::unacked_key, f.reserved_tag));
    }
    cmds.push_back(words("EXEC"));
    auto reserved = co_await w_.must_run(w_.cmd, std::move(cmds), false);
    deliveries = 1;
    if (reserved && reserved->back().type == redis_reply::kind::array && reserved->back().elements.size() >= 4)
      deliveries = reserved->back().elements[2].integer;
  }
  std::string raw = std::move(f.raw);
  auto& res = w_.running[tag];
  res.raw = std::move(raw);
  res.list_key = celery::queue_key(queue, m.priority);
  res.id = m.id;
  res.task = m.task;
  res.args_json = m.args_json;
  res.kwargs_json = m.kwargs_json;
  res.exchange = m.exchange;
  res.routing_key = m.routing_key;
  res.eta_text = m.eta_text;
  res.priority = m.priority;
  res.redelivered = m.redelivered;
  if (w_.options.log_tasks) w_.log(label(m) + " received");
  co_return deliveries;
}

// What to store for a reserved message: decided without running it
// (unregistered, expired, poison), or by running it.
core::task<message_handler::verdict> message_handler::decide(const celery::task_message& m, long long deliveries,
                                                             const std::string& queue, slot_guard& slot) {
  verdict v;
  if (!celery::is_registered(m.task)) {
    w_.log("received unregistered task of type '" + m.task + "' (" + m.id + "): stored as FAILURE NotRegistered");
    v = failed("FAILURE", "NotRegistered", "celery.exceptions", m.task);
  } else if (revoked(m)) {
    v = failed("REVOKED", "TaskRevokedError", "celery.exceptions", "revoked");
  } else if (m.expires && celery::unix_now() > *m.expires) {
    v = failed("REVOKED", "TaskRevokedError", "celery.exceptions", "expired");
  } else if (deliveries > w_.options.max_deliveries) {
    const std::string why = "task " + m.task + " was delivered " + std::to_string(deliveries) +
                            " times and each delivery ended with its worker's death";
    w_.log(label(m) + ": " + why + "; moved to " + celery::dead_letter_key(queue));
    co_await dead_letter(queue, w_.running[m.delivery_tag].raw, why);  // a copy: the reservation keeps its own
    v = failed("FAILURE", "WorkerLostError", "billiard.exceptions", why);
  } else if (!co_await wait_for_eta(m, slot)) {
    // the worker stopped first: requeued at shutdown
  } else if (m.expires && celery::unix_now() > *m.expires) {  // it expired while it waited
    v = failed("REVOKED", "TaskRevokedError", "celery.exceptions", "expired");
  } else if (revoked(m)) {  // revoked while it waited
    v = failed("REVOKED", "TaskRevokedError", "celery.exceptions", "revoked");
  } else {
    v = co_await run(m, slot);
  }
  co_return v;
}

// A task whose eta (or countdown) is ahead waits without a slot, so that a
// task due in a year does not stop the queue; its reservation stays in
// `running`, which the refresher keeps fresh and the shutdown requeues. When
// it is due it takes a slot again. Returns false when the worker stopped
// first (the requeue at shutdown has it).
core::task<bool> message_handler::wait_for_eta(const celery::task_message& m, slot_guard& slot) {
  if (m.eta && celery::unix_now() < *m.eta && !co_await hold(m, slot, *m.eta, true)) co_return false;
  // Then its task's rate limit (Celery's token bucket of capacity 1): each
  // task of the name starts 1/rate after the one before. It waits in its
  // slot, so that a slow rate does not make the worker hoard messages (in
  // Celery they count against the prefetch).
  const auto bucket = w_.rate_limits.find(m.task);
  if (bucket == w_.rate_limits.end() || bucket->second.per_second <= 0) co_return true;
  const double now = celery::unix_now();
  const double start = std::max(now, bucket->second.next_free);
  bucket->second.next_free = start + 1 / bucket->second.per_second;
  if (start > now && !co_await hold(m, slot, start, false)) co_return false;
  co_return true;
}

// Wait until `until`; `scheduled`: for an eta, holding no slot (see
// wait_for_eta), listed by `inspect scheduled`; otherwise in its slot. False
// when the worker stopped first.
core::task<bool> message_handler::hold(const celery::task_message& m, slot_guard& slot, double until_time,
                                       bool scheduled) {
  if (scheduled) {
    slot.release();
    w_.eta_wait_started();
    w_.running[m.delivery_tag].eta = m.eta;
  }
  // An expiry before the time ends the wait: the task will not run.
  const double until = m.expires ? std::min(until_time, *m.expires) : until_time;
  while (celery::unix_now() < until && !w_.stopping() && !w_.revoked.contains(m.id, celery::unix_now()))
    co_await w_.sleep_until(m.delivery_tag, until);
  if (!scheduled) co_return !w_.stopping();
  w_.eta_wait_ended();
  if (auto it = w_.running.find(m.delivery_tag); it != w_.running.end()) it->second.eta.reset();
  if (w_.stopping()) co_return false;
  slot.retake();
  co_return true;
}

// Run it on the executor, and turn what it returned into an outcome.
core::task<message_handler::verdict> message_handler::run(const celery::task_message& m, slot_guard& slot) {
  verdict v;
  if (w_.options.TEST_task_delay.count() > 0) co_await core::sleep_for(w_.options.TEST_task_delay);
  if (w_.task_events) {
    nlohmann::ordered_json fields;
    fields["uuid"] = m.id;
    co_await send_event(w_, "task-started", std::move(fields));
  }
  const auto t0 = steady_clock::now();
  const double start = celery::unix_now();
  if (auto it = w_.running.find(m.delivery_tag); it != w_.running.end()) it->second.time_start = start;
  // The earlier of the soft and hard limits, the message's or else the worker's.
  std::optional<double> hard = m.time_limit, soft = m.soft_time_limit;
  std::string hard_text = m.time_limit_text, soft_text = m.soft_time_limit_text;
  if (!hard && w_.options.time_limit > 0) {
    hard = w_.options.time_limit;
    hard_text = python_float(w_.options.time_limit);
  }
  if (!soft && w_.options.soft_time_limit > 0) {
    soft = w_.options.soft_time_limit;
    soft_text = python_float(w_.options.soft_time_limit);
  }
  const bool soft_first = soft && (!hard || *soft < *hard);
  const std::string watch_tag = "limit:" + m.delivery_tag;
  if (soft_first || hard)
    core::spawn(co_await core::this_executor(),
                watchdog(m.delivery_tag, m.task, m.id, start + (soft_first ? *soft : *hard), soft_first,
                         soft_first ? soft_text : hard_text));
  std::shared_ptr<core::call_stop> stop;
  if (const auto res = w_.running.find(m.delivery_tag); res != w_.running.end()) stop = res->second.stop;
  auto r = co_await core::async_call(w_.executor, celery::core_task_name(m.task),
                                     celery::encode_call(m.args_json, m.kwargs_json), std::move(stop));
  const double took = std::chrono::duration<double>(steady_clock::now() - t0).count();
  slot.release();  // the slot is free for the next message while this result is stored
  w_.wake(watch_tag);
  auto it = w_.running.find(m.delivery_tag);
  if (it != w_.running.end() && it->second.terminated) {  // its REVOKED is stored (controller.h)
    w_.running.erase(it);
    --w_.terminated_running;
    co_return v;
  }
  if (it == w_.running.end() || it->second.abandoned) co_return v;  // requeued at shutdown: not ours any more
  it->second.finished = true;
  celery::outcome out;
  if (r.ok()) {
    out = celery::decode_outcome(r.value());
  } else {
    out.exc_type = "WorkerLostError";
    out.exc_module = "billiard.exceptions";
    out.message = r.error().message();
  }
  if (out.ok) {
    outcome o;
    o.state = "SUCCESS";
    o.result_json = std::move(out.result_json);
    o.runtime = took;
    if (w_.options.log_tasks) w_.log(label(m) + " succeeded in " + seconds_text(took) + "s: " + preview(o.result_json));
    v = std::move(o);
  } else {
    w_.log(label(m) + " raised " + out.exc_type + ": " + out.message);
    v = failed("FAILURE", out.exc_type, out.exc_module, out.message,
               finisher_.traceback_text(out.exc_type, out.message));
    maybe_retry(m, *v);
  }
  co_return v;
}

// Celery's time limits, as its pool enforces them: when `deadline` passes
// with the task still running, FAILURE billiard.exceptions.TimeLimitExceeded(limit)
// (soft: SoftTimeLimitExceeded(), which a C++ task cannot catch) is stored at
// once, and the call's own result will be dropped.
core::task<void> message_handler::watchdog(std::string tag, std::string task, std::string id, double deadline,
                                           bool soft, std::string limit_text) {
  const std::string watch_tag = "limit:" + tag;
  const auto running = [this, &tag] {
    const auto it = w_.running.find(tag);
    return it != w_.running.end() && !it->second.finished && !it->second.abandoned;
  };
  while (running() && !w_.stopping() && celery::unix_now() < deadline) co_await w_.sleep_until(watch_tag, deadline);
  if (!running() || w_.stopping()) co_return;
  const std::string type = soft ? "SoftTimeLimitExceeded" : "TimeLimitExceeded";
  w_.log(std::string(soft ? "Soft" : "Hard") + " time limit (" + limit_text + "s) exceeded for " + task + "[" + id +
         "]");
  outcome o = failed("FAILURE", type, "billiard.exceptions", type, finisher_.traceback_text(type, limit_text));
  o.result_json = "{\"exc_type\": \"" + type + "\", \"exc_message\": [" + (soft ? "" : limit_text) +
                  "], \"exc_module\": \"billiard.exceptions\"}";
  co_await finisher_.finish_early(std::move(tag), std::move(o));
}

// Celery's autoretry_for: a failure of a listed type, with retries left,
// becomes RETRY, and the task goes out again as Task.retry sends it
// (signature_from_request: the same id, options and canvas, retries + 1,
// countdown the retry delay, to the queue it came from).
void message_handler::maybe_retry(const celery::task_message& m, outcome& o) {
  const auto& types = w_.options.autoretry_for;
  const std::string qualified = o.exc_module + "." + o.exc_type;
  if (std::find(types.begin(), types.end(), o.exc_type) == types.end() &&
      std::find(types.begin(), types.end(), qualified) == types.end())
    return;
  if (m.retries + 1 > w_.options.max_retries) return;  // Celery re-raises the exception: FAILURE
  nlohmann::ordered_json opts;
  opts["task_id"] = m.id;
  if (!m.root_id.empty()) opts["root_id"] = m.root_id;
  if (!m.parent_id.empty()) opts["parent_id"] = m.parent_id;
  if (!m.group.empty()) opts["group_id"] = m.group;
  if (!m.group_index.empty()) opts["group_index"] = std::stoll(m.group_index);
  if (!m.expires_text.empty()) opts["expires"] = m.expires_text;
  if (!m.time_limit_text.empty()) opts["time_limit"] = nlohmann::ordered_json::parse(m.time_limit_text);
  if (!m.soft_time_limit_text.empty()) opts["soft_time_limit"] = nlohmann::ordered_json::parse(m.soft_time_limit_text);
  if (!m.reply_to.empty()) opts["reply_to"] = m.reply_to;
  if (m.priority) opts["priority"] = m.priority;
  opts["queue"] = m.routing_key;
  opts["retries"] = m.retries + 1;
  opts["countdown"] = w_.options.retry_delay;
  std::string sig = "{\"task\": " + json_text::quote(m.task) + ", \"args\": " + m.args_json +
                    ", \"kwargs\": " + m.kwargs_json + ", \"options\": " + opts.dump();
  // The canvas goes along as it came (JSON texts: big integers stay exact).
  sig.pop_back();
  const auto embed = [&sig](const char* key, const std::string& json) {
    if (!json.empty()) sig.append(", ").append(json_text::quote(key)).append(": ").append(json);
  };
  embed("chord", m.chord);
  embed("chain", m.chain);
  embed("link", m.callbacks);
  embed("link_error", m.errbacks);
  sig += "}, \"subtask_type\": null, \"immutable\": false}";
  w_.log(label(m) + " retry: Retry in " + python_float(w_.options.retry_delay) + "s: " + o.exc_type + "(" +
         json_text::py_repr(json_text::quote(o.message)) + ")");
  o.state = "RETRY";
  o.retry_signature = std::move(sig);
}

// Revoked by remote control (controller.h), as Celery's Request.revoked().
bool message_handler::revoked(const celery::task_message& m) {
  if (!w_.revoked.contains(m.id, celery::unix_now())) return false;
  w_.log("Discarding revoked task: " + m.task + "[" + m.id + "]");
  return true;
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

core::task<void> message_handler::dead_letter(const std::string& queue, std::string raw, const std::string& why,
                                              const std::string& unreserve_tag) {
  // Written by hand, in nlohmann's key order: the message may be large, so
  // it is escaped once, into an entry that is allocated once, and its raw
  // copy is freed before the entry goes to Redis.
  const std::string tail = ",\"reason\":" + json_text::quote(why) + ",\"time\":" + seconds_text(celery::unix_now()) +
                           ",\"worker\":" + json_text::quote(w_.name) + "}";
  std::string entry;
  entry.reserve(11 + json_text::quoted_size(raw) + tail.size());
  entry += "{\"message\":";
  json_text::append_quoted(entry, raw);
  raw = std::string();
  entry += tail;
  const std::string key = celery::dead_letter_key(queue);
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("LPUSH", key, std::move(entry)));
  cmds.push_back(words("EXPIRE", key, std::to_string(std::chrono::seconds(dead_letter_expiry).count())));
  if (!unreserve_tag.empty()) {
    cmds.insert(cmds.begin(), words("MULTI"));
    cmds.push_back(words("ZREM", celery::unacked_index_key, unreserve_tag));
    cmds.push_back(words("HDEL", celery::unacked_key, unreserve_tag));
    cmds.push_back(words("EXEC"));
  }
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
  ++w_.stats.dead_lettered;
}

}  // namespace scalekit::taskqueue::detail
