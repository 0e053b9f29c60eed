#include "scalekit/taskqueue/control.h"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::celery {

namespace {
using json = nlohmann::json;

std::string string_or_empty(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

bool control_request::is_for(std::string_view hostname) const {
  return destination.empty() || std::find(destination.begin(), destination.end(), hostname) != destination.end();
}

result<control_request> parse_control(std::string_view envelope) {
  const json env = json::parse(envelope, nullptr, false);
  if (!env.is_object()) return status::corruption("control message is not a JSON object");
  const auto body_it = env.find("body");
  if (body_it == env.end() || !body_it->is_string()) return status::corruption("control message has no body");
  std::string body_text = body_it->get<std::string>();
  if (string_or_empty(env.value("properties", json::object()), "body_encoding") == "base64") {
    auto decoded = base64_decode(body_text);
    if (!decoded.ok()) return status::corruption("control message body is not base64");
    body_text = std::move(decoded).value();
  }
  if (string_or_empty(env, "content-type") != "application/json")
    return status::corruption("control message is not JSON (content-type)");
  const json body = json::parse(body_text, nullptr, false);
  if (!body.is_object()) return status::corruption("control message body is not a JSON object");
  control_request r;
  r.method = string_or_empty(body, "method");
  if (r.method.empty()) return status::corruption("control message names no method");
  if (const auto a = body.find("arguments"); a != body.end() && a->is_object()) {
    r.arguments_json = a->dump();
    auto id = a->find("task_id");
    if (id == a->end()) id = a->find("ids");  // query_task
    if (id != a->end()) {
      if (id->is_string()) r.task_ids.push_back(id->get<std::string>());
      if (id->is_array())
        for (const auto& e : *id)
          if (e.is_string()) r.task_ids.push_back(e.get<std::string>());
    }
    if (const auto t = a->find("terminate"); t != a->end() && t->is_boolean()) r.terminate = t->get<bool>();
    if (const auto sig = a->find("signal"); sig != a->end() && !sig->is_null())
      r.signal = sig->is_string() ? sig->get<std::string>() : sig->dump();
    if (const auto n = a->find("n"); n != a->end() && n->is_number_integer()) r.n = n->get<long long>();
    r.task_name = string_or_empty(*a, "task_name");
    if (const auto rl = a->find("rate_limit"); rl != a->end())
      r.rate_limit = rl->is_string() ? rl->get<std::string>() : rl->is_number() ? rl->dump() : "";
  }
  if (const auto d = body.find("destination"); d != body.end() && d->is_array())
    for (const auto& e : *d)
      if (e.is_string()) r.destination.push_back(e.get<std::string>());
  if (const auto rt = body.find("reply_to"); rt != body.end() && rt->is_object()) {
    r.reply_exchange = string_or_empty(*rt, "exchange");
    r.reply_routing_key = string_or_empty(*rt, "routing_key");
  }
  r.ticket = string_or_empty(body, "ticket");
  return r;
}

std::string make_control_request(std::string_view method, std::string_view arguments_json, std::string_view ticket,
                                 std::string_view reply_oid, double expires, unsigned long long clock) {
  // The body by hand: the arguments are embedded as they are.
  const std::string body =
      "{\"method\": " + json(std::string(method)).dump() + ", \"arguments\": " + std::string(arguments_json) +
      ", \"destination\": null, \"pattern\": null, \"matcher\": null, \"ticket\": " + json(std::string(ticket)).dump() +
      ", \"reply_to\": {\"exchange\": \"reply.celery.pidbox\", \"routing_key\": " +
      json(std::string(reply_oid)).dump() + "}}";
  json env{{"body", base64_encode(body)},
           {"content-encoding", "utf-8"},
           {"content-type", "application/json"},
           {"headers", {{"clock", clock}, {"expires", expires}}},
           {"properties",
            {{"delivery_mode", 2},
             {"delivery_info", {{"exchange", "celery.pidbox"}, {"routing_key", ""}}},
             {"priority", 0},
             {"body_encoding", "base64"},
             {"delivery_tag", new_uuid()}}}};
  return env.dump();
}

std::string reply_queue_of(std::string_view oid) { return std::string(oid) + ".reply.celery.pidbox"; }

std::string reply_binding_member(std::string_view oid) {
  return std::string(oid) + std::string(sep) + std::string(sep) + reply_queue_of(oid);
}

result<control_reply> parse_control_reply(std::string_view envelope) {
  const json env = json::parse(envelope, nullptr, false);
  if (!env.is_object()) return status::corruption("a reply that is not a JSON object");
  control_reply out;
  if (const auto h = env.find("headers"); h != env.end() && h->is_object()) out.ticket = string_or_empty(*h, "ticket");
  auto body = base64_decode(string_or_empty(env, "body"));
  if (!body.ok()) return status::corruption("a reply whose body is not base64");
  const json b = json::parse(body.value(), nullptr, false);
  if (!b.is_object() || b.size() != 1) return status::corruption("a reply body that is not {hostname: reply}");
  out.hostname = b.begin().key();
  out.reply_json = b.begin().value().dump();
  return out;
}

std::optional<int> signal_number(std::string_view name) {
  int n = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec == std::errc() && end == name.data() + name.size())
    return n >= 1 && n <= 64 ? std::optional<int>(n) : std::nullopt;
  if (name.rfind("SIG", 0) == 0) name.remove_prefix(3);
  if (name.empty()) return std::nullopt;
  for (int sig = 1; sig < NSIG; ++sig)  // glibc's own table of signal names ("TERM", "KILL", ...)
    if (const char* abbrev = ::sigabbrev_np(sig); abbrev != nullptr && name == abbrev) return sig;
  return std::nullopt;
}

std::string make_control_reply(const control_request& request, std::string_view hostname, std::string_view reply_json,
                               unsigned long long clock) {
  // The body by hand: the reply is embedded as it is.
  const std::string body = "{" + json(std::string(hostname)).dump() + ": " + std::string(reply_json) + "}";
  json env{{"body", base64_encode(body)},
           {"content-encoding", "utf-8"},
           {"content-type", "application/json"},
           {"headers", {{"ticket", request.ticket}, {"clock", clock}}},
           {"properties",
            {{"delivery_mode", 1},
             {"delivery_info", {{"exchange", request.reply_exchange}, {"routing_key", request.reply_routing_key}}},
             {"priority", 0},
             {"body_encoding", "base64"},
             {"delivery_tag", new_uuid()}}}};
  return env.dump();
}

std::string reply_queue(const std::vector<std::string>& binding_members, std::string_view routing_key) {
  for (const auto& m : binding_members) {
    const auto first = m.find(sep);
    if (first == std::string::npos || std::string_view(m).substr(0, first) != routing_key) continue;
    const auto second = m.find(sep, first + sep.size());
    if (second == std::string::npos) continue;
    return m.substr(second + sep.size());
  }
  return "";
}

std::optional<double> parse_rate(std::string_view text) {
  if (text.empty()) return 0.0;
  const auto slash = text.find('/');
  const std::string number(text.substr(0, slash));
  const std::string_view unit = slash == std::string_view::npos ? "s" : text.substr(slash + 1);
  char* end = nullptr;
  const double n = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !(n >= 0) || n > 1e9) return std::nullopt;
  if (unit == "s" || unit.empty()) return n;
  if (unit == "m") return n / 60;
  if (unit == "h") return n / 3600;
  return std::nullopt;
}

std::string ok_reply(std::string_view message) { return json{{"ok", std::string(message)}}.dump(); }
std::string error_reply(std::string_view message) { return json{{"error", std::string(message)}}.dump(); }

}  // namespace scalekit::taskqueue::celery
