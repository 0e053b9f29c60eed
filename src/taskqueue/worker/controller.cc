#include "controller.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "mingle.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/registry.h"

namespace scalekit::taskqueue::detail {

namespace {
using json = nlohmann::json;

// Requests larger than this are ignored unparsed (a revoke of thousands of ids fits).
constexpr std::size_t max_request_bytes = 1 << 20;

// A JSON text as a value (arguments are stored as text); null when it is not JSON.
json value_of(const std::string& text) { return json::parse(text, nullptr, false, true); }

// Celery's Request.info() of a reservation.
json info_of(const reservation& r, const std::string& hostname) {
  json args = value_of(r.args_json), kwargs = value_of(r.kwargs_json);
  if (args.is_discarded()) args = json::array();
  if (kwargs.is_discarded()) kwargs = json::object();
  return json{{"id", r.id},
              {"name", r.task},
              {"args", std::move(args)},
              {"kwargs", std::move(kwargs)},
              {"type", r.task},
              {"hostname", hostname},
              {"time_start", r.time_start ? json(*r.time_start) : json(nullptr)},
              {"acknowledged", false},  // scalekit acknowledges with the result (spec 5.4)
              {"delivery_info",
               {{"exchange", r.exchange},
                {"routing_key", r.routing_key},
                {"priority", r.priority},
                {"redelivered", r.redelivered}}},
              {"worker_pid", ::getpid()}};
}
// kombu's Queue.as_dict(recurse=True) of a consumed queue, as a Celery worker answers active_queues.
json queue_info(const std::string& q) {
  return json{{"name", q},
              {"exchange",
               {{"name", q},
                {"type", "direct"},
                {"arguments", nullptr},
                {"durable", true},
                {"passive", false},
                {"auto_delete", false},
                {"delivery_mode", nullptr},
                {"no_declare", false}}},
              {"routing_key", q},
              {"queue_arguments", nullptr},
              {"binding_arguments", nullptr},
              {"consumer_arguments", nullptr},
              {"durable", true},
              {"exclusive", false},
              {"auto_delete", false},
              {"no_ack", false},
              {"alias", nullptr},
              {"bindings", json::array()},
              {"no_declare", nullptr},
              {"expires", nullptr},
              {"message_ttl", nullptr},
              {"max_length", nullptr},
              {"max_length_bytes", nullptr},
              {"max_priority", nullptr}};
}
}  // namespace

core::task<void> controller::run() {
  auto loop = co_await core::this_executor();
  redis_subscriber sub(loop, w_.endpoint, [this, loop](const std::string&, const std::string& payload) {
    core::spawn(loop, handle(payload));
  });
  std::vector<std::string> channels{celery::pidbox_channel(w_.endpoint.db)};
  const status s = co_await sub.subscribe(std::move(channels));
  if (!s.ok()) w_.log("remote control: cannot subscribe yet (" + s.message() + "); will retry");
  co_await w_.until_stopped();
}

core::task<void> controller::handle(std::string envelope) {
  if (envelope.size() > max_request_bytes) {  // a request is a few hundred bytes; this one is not parsed
    w_.log("remote control: ignored a message of " + std::to_string(envelope.size()) + " bytes (the limit is " +
           std::to_string(max_request_bytes) + ")");
    co_return;
  }
  auto parsed = celery::parse_control(envelope);
  if (!parsed.ok()) {
    w_.log("remote control: ignored a message: " + parsed.error().message());
    co_return;
  }
  const celery::control_request r = std::move(parsed).value();
  if (!r.is_for(w_.name) || w_.stopping()) co_return;
  ++clock_;
  if (r.method == "shutdown") {  // Celery raises WorkerShutdown: no reply
    w_.log("Got shutdown from remote: stopping");
    w_.stop();
    co_return;
  }
  std::string answer_json;  // (not a conditional expression: GCC 12 miscompiles co_await in one)
  if (r.method == "revoke") {
    answer_json = co_await revoke(r);
  } else {
    answer_json = answer(r);
  }
  if (r.wants_reply()) co_await reply(r, std::move(answer_json));
}

std::string controller::answer(const celery::control_request& r) {
  const double now = celery::unix_now();
  if (r.method == "ping") return celery::ok_reply("pong");
  if (r.method == "stats") return stats();
  if (r.method == "active" || r.method == "reserved" || r.method == "scheduled") return requests(r.method.c_str());
  if (r.method == "registered") {
    json names = json::array();
    for (const auto& n : celery::registered_names())
      if (n.rfind("celery.", 0) != 0) names.push_back(n);
    return names.dump();
  }
  if (r.method == "active_queues") {
    json queues = json::array();
    for (const auto& q : w_.options.queues) queues.push_back(queue_info(q));
    return queues.dump();
  }
  if (r.method == "query_task") {
    json found = json::object();
    for (const auto& [tag, res] : w_.running) {
      if (res.finished || res.abandoned || res.eta) continue;  // Celery's reserved and active requests
      if (std::find(r.task_ids.begin(), r.task_ids.end(), res.id) == r.task_ids.end()) continue;
      found[res.id] = json::array({res.time_start ? "active" : "reserved", info_of(res, w_.name)});
    }
    return found.dump();
  }
  if (r.method == "revoked") return json(w_.revoked.list(now)).dump();
  if (r.method == "hello") return hello(r);
  if (r.method == "clock") return json{{"clock", clock_}}.dump();
  if (r.method == "rate_limit") {
    const auto rate = celery::parse_rate(r.rate_limit);
    if (!rate) return celery::error_reply("Invalid rate limit string: ValueError('" + r.rate_limit + "')");
    if (!celery::is_registered(r.task_name)) {
      w_.log("Rate limit attempt for unknown task " + r.task_name);
      return celery::error_reply("unknown task");
    }
    w_.rate_limits[r.task_name].per_second = *rate;
    if (*rate <= 0) {
      w_.log("Rate limits disabled for tasks of type " + r.task_name);
      return celery::ok_reply("rate limit disabled successfully");
    }
    w_.log("New rate limit for tasks of type " + r.task_name + ": " + r.rate_limit + ".");
    return celery::ok_reply("new rate limit set successfully");
  }
  if (r.method == "enable_events" || r.method == "disable_events") {
    const bool on = r.method == "enable_events";
    if (w_.task_events == on)
      return celery::ok_reply(on ? "task events already enabled" : "task events already disabled");
    w_.task_events = on;
    w_.log(std::string("Events of group {task} ") + (on ? "enabled" : "disabled") + " by remote.");
    return celery::ok_reply(on ? "task events enabled" : "task events disabled");
  }
  if (r.method == "pool_grow" || r.method == "pool_shrink") {
    const bool grow = r.method == "pool_grow";
    const std::size_t limit = w_.resize_slots(grow ? r.n : -r.n);
    w_.log(std::string("remote control: ") + r.method + " " + std::to_string(r.n) + ": " + std::to_string(limit) +
           " slots");
    return celery::ok_reply(grow ? "pool will grow" : "pool will shrink");
  }
  w_.log("remote control: no such command: " + r.method);
  return celery::error_reply("KeyError('" + r.method + "')");
}

// Celery's hello: {"from_node": name, "revoked": {id: [time, id] or time}}
// (a LimitedSet's _data; a list of ids is taken too). The times are the
// sender's time.monotonic(): ours count from now. Ours go out the same way,
// on this machine's monotonic clock, as Celery's do.
std::string controller::hello(const celery::control_request& r) {
  const double now = celery::unix_now();
  json args = json::parse(r.arguments_json, nullptr, false);
  if (!args.is_object()) args = json::object();
  const auto from = args.find("from_node");
  const std::string from_node = from != args.end() && from->is_string() ? from->get<std::string>() : "";
  if (from_node == w_.name) return "null";  // our own request: Celery answers None
  const auto revoked = args.find("revoked");
  const std::size_t added = revoked == args.end() ? 0 : take_revoked(w_, *revoked, now);
  w_.log("sync with " + (from_node.empty() ? std::string("a worker") : from_node) + " (" + std::to_string(added) +
         " revoked ids received)");
  const double mono_now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  json ours = json::object();
  for (const auto& [id, when] : w_.revoked.entries(now)) ours[id] = json::array({mono_now - (now - when), id});
  return json{{"revoked", std::move(ours)}, {"clock", clock_}}.dump();
}

core::task<std::string> controller::revoke(const celery::control_request& r) {
  const double now = celery::unix_now();
  std::string ids;
  const std::set<std::string> wanted(r.task_ids.begin(), r.task_ids.end());
  for (const auto& id : r.task_ids) {
    w_.revoked.add(id, now);
    ids += (ids.empty() ? "" : ", ") + id;
  }
  // Waiting for an eta: woken, it finds itself revoked (handler.h). Running,
  // with terminate: finished here as REVOKED.
  std::vector<std::string> waiting, running;
  for (const auto& [tag, res] : w_.running) {
    if (!wanted.count(res.id) || res.finished || res.abandoned) continue;
    if (res.eta) waiting.push_back(tag);
    if (r.terminate && res.time_start) running.push_back(tag);
  }
  for (const auto& tag : waiting) w_.wake(tag);
  if (!r.terminate) {
    w_.log("Tasks flagged as revoked: " + ids);
    co_return celery::ok_reply("tasks " + ids + " flagged as revoked");
  }
  const auto signal = celery::signal_number(r.signal);
  if (!signal) {  // Celery's signum() raises after the ids are revoked
    w_.log("Tasks flagged as revoked: " + ids + " (not terminated: no signal '" + r.signal + "')");
    co_return celery::error_reply("TypeError('signal name must be uppercase string.')");
  }
  std::string terminated;
  for (auto& tag : running) {
    const auto it = w_.running.find(tag);
    const std::string id = it == w_.running.end() ? "" : it->second.id;
    if (co_await terminate(std::move(tag), *signal)) terminated += (terminated.empty() ? "" : ", ") + id;
  }
  co_return celery::ok_reply(terminated.empty() ? "terminate: tasks unknown" : "terminate: " + terminated);
}

// A running task's REVOKED ("terminated"), stored and acknowledged now; the
// run goes on in the executor (a call cannot be stopped one by one) holding
// its slot, and what it returns is dropped (spec 12.2).
core::task<bool> controller::terminate(std::string tag, int signal) {
  const auto it = w_.running.find(tag);
  if (it == w_.running.end()) co_return false;
  // Worker processes end the call with the signal; threads cannot stop one.
  if (it->second.stop) it->second.stop->signal = signal;
  w_.log("Terminating " + it->second.id + " (revoked with terminate=True, signal " + std::to_string(signal) + ")");
  co_return co_await finisher_.finish_early(std::move(tag),
                                            failed("REVOKED", "TaskRevokedError", "celery.exceptions", "terminated"));
}

std::string controller::requests(const char* which) const {
  const std::string kind = which;
  json out = json::array();
  for (const auto& [tag, r] : w_.running) {
    if (r.finished || r.abandoned) continue;
    if (kind == "active" && r.time_start) out.push_back(info_of(r, w_.name));
    if (kind == "reserved" && !r.time_start && !r.eta) out.push_back(info_of(r, w_.name));
    if (kind == "scheduled" && r.eta)
      out.push_back(json{{"eta", r.eta_text}, {"priority", r.priority}, {"request", info_of(r, w_.name)}});
  }
  return out.dump();
}

std::string controller::stats() const {
  json total = json::object();
  for (const auto& [name, n] : w_.totals) total[name] = n;
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  const std::size_t limit = w_.get_slot_limit();
  return json{{"total", std::move(total)},
              {"pid", ::getpid()},
              {"clock", std::to_string(clock_)},
              {"uptime", static_cast<long long>(celery::unix_now() - w_.started)},
              {"pool",
               {{"max-concurrency", w_.concurrency},
                {"implementation", "scalekit:" + std::string(core::to_string(w_.executor.kind()))},
                {"slots", limit}}},
              {"broker",
               {{"hostname", w_.endpoint.host},
                {"port", w_.endpoint.port},
                {"virtual_host", std::to_string(w_.endpoint.db)},
                {"transport", "redis"}}},
              {"prefetch_count", limit},
              {"rusage", {{"utime", secs(ru.ru_utime)}, {"stime", secs(ru.ru_stime)}, {"maxrss", ru.ru_maxrss}}},
              {"sw_ident", "scalekit"}}
      .dump();
}

core::task<void> controller::reply(const celery::control_request& r, std::string reply_json) {
  // kombu's direct exchange: the queue bound to the reply routing key.
  const std::string binding = "_kombu.binding." + r.reply_exchange;
  auto members = co_await w_.cmd.command(words("SMEMBERS", binding));
  if (!members.ok()) co_return;  // the broker is away: the client will time out, as with Celery
  std::vector<std::string> list;
  for (const auto& e : members->elements) list.push_back(e.str);
  const std::string queue = celery::reply_queue(list, r.reply_routing_key);
  if (queue.empty()) co_return;  // the client has gone
  co_await w_.cmd.command(words("LPUSH", queue, celery::make_control_reply(r, w_.name, reply_json, clock_)));
}

}  // namespace scalekit::taskqueue::detail
