#include "finisher.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/json_text.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/result_meta.h"

namespace scalekit::taskqueue::detail {

namespace {

// Python's repr() of the exception a stored result holds: TypeError('boom').
std::string exception_repr(std::string_view result_json) {
  auto fields = json_text::members(result_json);
  if (!fields.ok()) return json_text::minify(result_json);
  const auto type = json_text::find(fields.value(), "exc_type");
  const auto message = json_text::find(fields.value(), "exc_message");
  std::string out = type ? json_text::string_value(*type).value_or("Exception") : "Exception";
  out += "(";
  if (message && json_text::kind_of(*message) == json_text::kind::array) {
    bool first = true;
    const auto args = json_text::elements(*message).value();
    for (auto a : args) {
      out.append(first ? "" : ", ").append(json_text::py_repr(a));
      first = false;
    }
  } else if (message && *message != "null") {
    out += json_text::py_repr(*message);
  }
  return out + ")";
}

}  // namespace

outcome failed(std::string state, std::string exc_type, std::string exc_module, std::string message,
               std::string traceback) {
  outcome o;
  o.state = std::move(state);
  o.result_json = celery::exception_json(exc_type, exc_module, message);
  o.exc_type = std::move(exc_type);
  o.exc_module = std::move(exc_module);
  o.message = std::move(message);
  o.traceback = std::move(traceback);
  return o;
}

void finisher::apply(std::string_view sig, const std::vector<std::string>& partial, const celery::apply_options& opts,
                     writes& out, const celery::task_message& m) {
  try {
    celery::apply_signature(sig, partial, opts, out.effects);
  } catch (const std::exception& e) {
    w_.log("Task " + m.task + "[" + m.id + "]: cannot apply a signature: " + e.what());
  }
}

core::task<void> finisher::finish(const celery::task_message& m, outcome o) {
  writes out;
  const std::string root = m.root_id.empty() ? m.id : m.root_id;
  if (o.success()) {
    // As Celery's tracer: callbacks with the result (several as one group),
    // then the chain's next task with the rest of the chain. A signature that
    // cannot be applied fails the task, as it does in Python.
    try {
      celery::canvas_effects effects;
      celery::apply_options parent;
      parent.set_string("parent_id", m.id).set_string("root_id", root);
      const auto callbacks = celery::signature_list(m.callbacks);
      const std::string group_id = callbacks.size() > 1 ? celery::new_uuid() : "";
      for (const auto& cb : callbacks) {
        celery::apply_options opts = parent;
        opts.set_string("group_id", group_id);
        celery::apply_signature(cb, {o.result_json}, opts, effects);
      }
      auto chain = celery::signature_list(m.chain);
      if (!chain.empty()) {
        const std::string next = std::move(chain.back());
        chain.pop_back();
        std::string rest = "[";
        for (const auto& s : chain) rest.append(rest.size() > 1 ? ", " : "").append(s);
        celery::apply_options opts = parent;
        opts.set("chain", rest + "]");
        celery::apply_signature(next, {o.result_json}, opts, effects);
      }
      out.effects = std::move(effects);
    } catch (const std::exception& e) {
      o = failed("FAILURE", "ValueError", "builtins", std::string("cannot apply the next signature: ") + e.what(),
                 traceback_text("ValueError", e.what()));
    }
  }
  if (o.state == "RETRY") {  // Celery's Task.retry: the task again, and RETRY; nothing else moves
    try {
      celery::apply_signature(o.retry_signature, {}, {}, out.effects);
    } catch (const std::exception& e) {
      w_.log("Task " + m.task + "[" + m.id + "]: cannot be retried: " + e.what());
      o.state = "FAILURE";
    }
  }
  const std::string children = o.state == "RETRY" ? std::string("[]") : out.effects.children_json();
  const std::string traceback = o.traceback.empty() ? "null" : json_text::quote(o.traceback);
  if (!m.ignore_result)
    out.metas.emplace_back(m.id, celery::make_meta(o.state, m.id, o.result_json, traceback,
                                                   {m.group, m.parent_id, children}));
  if (o.state == "FAILURE") try {  // (a RETRY neither propagates nor calls errbacks)
      // Celery's mark_as_failure: every task left in the chain fails the same
      // way (so whoever waits for the chain's end hears of it), and the
      // errbacks are called as tasks with this task's id.
      for (const auto& elem : celery::signature_list(m.chain)) {
        const std::string tid = json_text::string_value(celery::signature_option(elem, "task_id")).value_or("");
        if (tid.empty()) continue;
        const std::string gid = json_text::string_value(celery::signature_option(elem, "group_id")).value_or("");
        out.metas.emplace_back(tid, celery::make_meta("FAILURE", tid, o.result_json, traceback, {gid, {}}));
        if (const std::string chord = celery::signature_option(elem, "chord"); !chord.empty())
          co_await chord_part(m, tid, gid, celery::signature_option(elem, "group_index"), o, chord, out);
      }
      const std::string group_id = celery::new_uuid();
      for (const auto& eb : celery::signature_list(m.errbacks)) {
        celery::apply_options opts;
        opts.set_string("parent_id", m.id).set_string("root_id", root).set_string("group_id", group_id);
        apply(eb, {json_text::quote(m.id)}, opts, out, m);
      }
    } catch (const std::exception& e) {
      w_.log("Task " + m.task + "[" + m.id + "]: its chain or errbacks are not signatures: " + e.what());
    }
  if (!m.chord.empty() && !m.group.empty() && o.state != "RETRY")
    co_await chord_part(m, m.id, m.group, m.group_index, o, m.chord, out);

  const std::string expires = std::to_string(w_.options.result_expires.count());
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("MULTI"));
  for (auto& [key, size] : out.effects.chord_sizes) {  // Celery's backend.set(): SETEX, then PUBLISH
    cmds.push_back(words("SETEX", key, expires, size));
    cmds.push_back(words("PUBLISH", key, size));
  }
  std::vector<std::string> queues;
  for (auto& msg : out.effects.messages) {
    const std::string queue = celery::queue_of_key(msg.list_key);
    if (std::find(queues.begin(), queues.end(), queue) == queues.end()) {
      queues.push_back(queue);
      cmds.push_back(words("SADD", celery::binding_key(queue), celery::binding_member(queue)));
    }
    cmds.push_back(words("LPUSH", std::move(msg.list_key), std::move(msg.envelope)));
  }
  for (auto& [id, meta] : out.metas) {
    const std::string key = celery::meta_key(id);
    cmds.push_back(words("SETEX", key, expires, meta));
    cmds.push_back(words("PUBLISH", key, std::move(meta)));
  }
  for (auto& key : out.deleted) cmds.push_back(words("DEL", std::move(key)));
  cmds.push_back(words("ZREM", celery::unacked_index_key, m.delivery_tag));
  cmds.push_back(words("HDEL", celery::unacked_key, m.delivery_tag));
  cmds.push_back(words("DEL", celery::deliveries_key(m.id)));
  cmds.push_back(words("EXEC"));
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
  if (w_.task_events) co_await announce(m, o);
}

// The task's last event, as Celery's Request sends it once the result is stored.
core::task<void> finisher::announce(const celery::task_message& m, const outcome& o) {
  nlohmann::ordered_json f;
  f["uuid"] = m.id;
  std::string type;
  if (o.success()) {
    type = "task-succeeded";
    f["result"] = json_text::py_repr(o.result_json);
    f["runtime"] = o.runtime;
  } else if (o.state == "RETRY") {
    type = "task-retried";
    f["exception"] = exception_repr(o.result_json);
    f["traceback"] = o.traceback;
  } else if (o.state == "REVOKED") {
    type = "task-revoked";
    const bool terminated = o.message == "terminated";
    f["terminated"] = terminated;
    int signum = 15;  // SIGTERM, Celery's default
    if (const auto it = w_.running.find(m.delivery_tag); it != w_.running.end() && it->second.stop->signal != 0)
      signum = it->second.stop->signal;
    f["signum"] = terminated ? nlohmann::ordered_json(signum) : nlohmann::ordered_json(nullptr);
    f["expired"] = o.message == "expired";
  } else {
    type = "task-failed";
    f["exception"] = exception_repr(o.result_json);
    f["traceback"] = o.traceback;
  }
  co_await send_event(w_, std::move(type), std::move(f));
}

core::task<bool> finisher::finish_early(std::string tag, outcome o) {
  const auto it = w_.running.find(tag);
  if (it == w_.running.end() || it->second.finished || it->second.abandoned || !it->second.time_start) co_return false;
  it->second.abandoned = true;  // the handle drops the run's result, and forgets it
  it->second.finished = true;   // neither refreshed nor requeued at shutdown
  it->second.terminated = true;
  ++w_.terminated_running;
  auto m = celery::parse_envelope(it->second.raw);
  if (!m.ok()) co_return false;
  co_await finish(m.value(), std::move(o));
  ++w_.stats.failed;
  ++w_.totals[m->task];
  co_return true;
}

std::string finisher::traceback_text(const std::string& exc_type, const std::string& message) const {
  return "Traceback (most recent call last):\n  (in scalekit worker " + w_.name + ")\n" + exc_type + ": " + message +
         "\n";
}

// Celery's RedisBackend.on_chord_part_return, step for step.
core::task<void> finisher::chord_part(const celery::task_message& m, const std::string& tid, const std::string& gid,
                                      const std::string& group_index, const outcome& o, const std::string& body,
                                      writes& out) {
  if (tid.empty() || gid.empty()) co_return;
  const std::string jkey = celery::chord_key(gid, "j"), tkey = celery::chord_key(gid, "t"),
                    skey = celery::chord_key(gid, "s");
  const std::string encoded = "[1, " + json_text::quote(tid) + ", " + json_text::quote(o.state) + ", " +
                              json_text::python_dumps(o.result_json) + "]";
  const std::string expires = std::to_string(w_.options.result_expires.count());
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(words("MULTI"));
  cmds.push_back(words("ZADD", jkey, group_index.empty() ? "+inf" : group_index, encoded));
  cmds.push_back(words("ZCOUNT", jkey, "-inf", "+inf"));
  cmds.push_back(words("GET", tkey));
  cmds.push_back(words("GET", skey));
  cmds.push_back(words("EXPIRE", jkey, expires));
  cmds.push_back(words("EXPIRE", tkey, expires));
  cmds.push_back(words("EXPIRE", skey, expires));
  cmds.push_back(words("EXEC"));
  const auto r = co_await w_.must_run(w_.cmd, std::move(cmds), true);
  if (!r || r->back().type != redis_reply::kind::array || r->back().elements.size() < 4) co_return;
  const auto& replies = r->back().elements;
  if (replies[3].is_nil()) co_return;  // no size: not a chord Celery's backend counts
  const long long ready = replies[1].integer;
  const long long total =
      std::atoll(replies[3].str.c_str()) + (replies[2].is_nil() ? 0 : std::atoll(replies[2].str.c_str()));
  if (ready != total) co_return;

  // The last part: the body gets every part's result, in group_index order.
  auto parts = co_await w_.must_run(w_.cmd, commands(words("ZRANGE", jkey, "0", "-1")), true);
  if (!parts) co_return;
  std::string results = "[", failure;
  for (const auto& p : parts->front().elements) {
    auto fields = json_text::elements(p.str);
    if (!fields.ok() || fields->size() < 4) continue;
    const std::string state = json_text::string_value((*fields)[2]).value_or("");
    if (failure.empty() && (state == "FAILURE" || state == "REVOKED"))
      failure = "Dependency " + json_text::string_value((*fields)[1]).value_or("") + " raised " +
                exception_repr((*fields)[3]);
    results.append(results.size() > 1 ? ", " : "").append((*fields)[3]);
  }
  results += "]";
  const std::string body_id = json_text::string_value(celery::signature_option(body, "task_id")).value_or("");
  if (failure.empty()) {
    // As Celery: the keys go once the body has been applied (or failed to
    // be); a dependency's failure leaves them to expire.
    out.deleted.insert(out.deleted.end(), {jkey, tkey, skey});
    celery::apply_options opts;
    opts.set_string("parent_id", m.id).set_string("root_id", m.root_id.empty() ? m.id : m.root_id);
    const std::size_t before = out.effects.messages.size();
    apply(body, {results}, opts, out, m);
    if (out.effects.messages.size() > before) co_return;
    failure = "Callback error: the chord's body cannot be applied";
  }
  // Celery's chord_error_from_stack: the body's errbacks, then its FAILURE.
  w_.log("Chord " + gid + " raised ChordError: " + failure);
  if (body_id.empty()) co_return;
  const std::string group_id = celery::new_uuid();
  for (const auto& eb : celery::signature_list(celery::signature_option(body, "link_error"))) {
    celery::apply_options opts;
    opts.set_string("parent_id", body_id).set_string("root_id", body_id).set_string("group_id", group_id);
    apply(eb, {json_text::quote(body_id)}, opts, out, m);
  }
  out.metas.emplace_back(body_id, celery::make_meta("FAILURE", body_id,
                                                    celery::exception_json("ChordError", "celery.exceptions", failure),
                                                    json_text::quote(traceback_text("ChordError", failure)), {}));
}

}  // namespace scalekit::taskqueue::detail
