#include "scalekit/taskqueue/envelope.h"

#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <simdjson.h>
#include <stdexcept>

#include "json_fields.h"
#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/json_text.h"

namespace scalekit::taskqueue::celery {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using detail::str_field;

// Celery caps argsrepr and kwargsrepr (saferepr with 1024 characters), so a
// large payload does not travel twice.
constexpr std::size_t repr_cap = 1024;
std::string capped_repr(std::string r) {
  if (r.size() > repr_cap) r = r.substr(0, repr_cap - 3) + "...";
  return r;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Python's repr() of the args tuple: "(1, 2)", "(1,)".
std::string args_repr(std::string_view args_json) {
  std::string out = "(";
  const auto items = json_text::elements(args_json).value();
  for (std::size_t i = 0; i < items.size() && out.size() <= repr_cap; ++i)
    out += (i ? ", " : "") + json_text::py_repr(items[i]);
  return capped_repr(out + (items.size() == 1 ? ",)" : ")"));
}

// "2026-11-22T09:22:26.402555+00:00" (or with Z, or naive UTC) as unix time.
std::optional<double> parse_iso8601(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double t = static_cast<double>(::timegm(&tm));
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, scale /= 10)
      t += (s[i] - '0') * scale;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) >= 1)
      t -= (s[i] == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
  }
  return t;
}

}  // namespace

std::string make_envelope(std::string_view name, std::string_view args_json, std::string_view kwargs_json,
                          const publish_options& o, std::string* id_out) {
  if (!json_text::validate(args_json).ok() || json_text::kind_of(trimmed(args_json)) != json_text::kind::array)
    throw std::invalid_argument("task args must be a JSON array");
  if (!json_text::validate(kwargs_json).ok() || json_text::kind_of(trimmed(kwargs_json)) != json_text::kind::object)
    throw std::invalid_argument("task kwargs must be a JSON object");
  const std::string id = o.id.empty() ? new_uuid() : o.id;
  if (id_out) *id_out = id;
  static const std::string origin = "gen" + std::to_string(::getpid()) + "@" + host_name();

  std::string body = "[";
  body.append(json_text::minify(args_json)).append(", ").append(json_text::minify(kwargs_json));
  body.append(R"(, {"callbacks": )").append(o.callbacks).append(R"(, "errbacks": )").append(o.errbacks);
  body.append(R"(, "chain": )").append(o.chain).append(R"(, "chord": )").append(o.chord).append("}]");

  ordered_json headers;
  headers["lang"] = "py";
  headers["task"] = name;
  headers["id"] = id;
  headers["shadow"] = nullptr;
  const auto text_or_null = [](const std::string& t) { return t.empty() ? ordered_json(nullptr) : ordered_json(t); };
  headers["eta"] = text_or_null(o.eta);
  headers["expires"] = text_or_null(o.expires);
  headers["group"] = text_or_null(o.group);
  headers["group_index"] = ordered_json::parse(o.group_index);
  headers["retries"] = o.retries;
  headers["timelimit"] =
      ordered_json::array({ordered_json::parse(o.time_limit), ordered_json::parse(o.soft_time_limit)});
  headers["root_id"] = o.root_id.empty() ? id : o.root_id;
  headers["parent_id"] = text_or_null(o.parent_id);
  headers["argsrepr"] = args_repr(args_json);
  headers["kwargsrepr"] = capped_repr(json_text::py_repr(trimmed(kwargs_json)));
  headers["origin"] = origin;
  headers["ignore_result"] = o.ignore_result;
  headers["scalekit_published"] = unix_now();  // lets `worker --status` tell how long a task has waited

  ordered_json properties;
  properties["correlation_id"] = id;
  properties["reply_to"] = o.reply_to.empty() ? new_uuid() : o.reply_to;
  properties["delivery_mode"] = 2;
  properties["delivery_info"] = ordered_json{{"exchange", ""}, {"routing_key", o.queue}};
  properties["priority"] = o.priority;
  properties["body_encoding"] = "base64";
  properties["delivery_tag"] = new_uuid();

  ordered_json env;
  env["body"] = base64_encode(body);
  env["content-encoding"] = "utf-8";
  env["content-type"] = "application/json";
  env["headers"] = std::move(headers);
  env["properties"] = std::move(properties);
  return env.dump();
}

result<task_message> parse_envelope(std::string_view raw, std::string* id_out) {
  // The worker's hot path: the envelope with simdjson (a parser reused per
  // thread), the body with json_text.
  thread_local simdjson::dom::parser envelope_parser;
  task_message m;
  simdjson::dom::element env;
  if (auto err = envelope_parser.parse(raw.data(), raw.size()).get(env); err)
    return status::corruption(std::string("not JSON: ") + simdjson::error_message(err));
  simdjson::dom::object root, headers, properties;
  if (env.get_object().get(root)) return status::corruption("the message is not a JSON object");
  if (root["headers"].get_object().get(headers) || root["properties"].get_object().get(properties))
    return status::corruption("headers or properties are not objects");
  m.id = str_field(headers, "id");
  if (id_out) *id_out = m.id;
  m.task = str_field(headers, "task");
  if (m.task.empty() || m.id.empty())
    return status::corruption("not a Celery protocol-2 task message (no task name or id in its headers)");
  m.delivery_tag = str_field(properties, "delivery_tag");
  if (m.delivery_tag.empty()) return status::corruption("no delivery_tag in its properties");
  const std::string_view type = str_field(root, "content-type");
  if (type != "application/json")
    return status::corruption("body serialized as '" + std::string(type) + "'; only application/json is understood");
  m.group = str_field(headers, "group");
  m.root_id = str_field(headers, "root_id");
  m.parent_id = str_field(headers, "parent_id");
  m.argsrepr = str_field(headers, "argsrepr");
  m.kwargsrepr = str_field(headers, "kwargsrepr");
  m.expires_text = str_field(headers, "expires");
  std::int64_t n = 0;
  if (!headers["retries"].get_int64().get(n)) m.retries = static_cast<int>(n);
  bool b = false;
  if (!headers["ignore_result"].get_bool().get(b)) m.ignore_result = b;
  if (!headers["redelivered"].get_bool().get(b)) m.redelivered = b;
  double t = 0;
  if (!headers["scalekit_published"].get_double().get(t)) m.published = t;
  if (auto eta = str_field(headers, "eta"); !eta.empty()) {
    m.eta_text = eta;
    m.eta = parse_iso8601(m.eta_text);
  }
  if (!headers["group_index"].get_int64().get(n)) m.group_index = std::to_string(n);
  simdjson::dom::array limits;
  if (!headers["timelimit"].get_array().get(limits) && limits.size() == 2) {
    double limit = 0;
    if (!limits.at(0).get_double().get(limit) && limit > 0) {
      m.time_limit = limit;
      m.time_limit_text = simdjson::minify(limits.at(0).value_unsafe());
    }
    if (!limits.at(1).get_double().get(limit) && limit > 0) {
      m.soft_time_limit = limit;
      m.soft_time_limit_text = simdjson::minify(limits.at(1).value_unsafe());
    }
  }
  m.reply_to = str_field(properties, "reply_to");
  if (auto exp = str_field(headers, "expires"); !exp.empty()) m.expires = parse_iso8601(std::string(exp));
  if (!properties["priority"].get_int64().get(n)) m.priority = static_cast<int>(n);
  simdjson::dom::object info;
  if (!properties["delivery_info"].get_object().get(info)) {
    m.exchange = str_field(info, "exchange");
    if (auto rk = str_field(info, "routing_key"); !rk.empty()) m.routing_key = rk;
  }
  std::string decoded;
  std::string_view body = str_field(root, "body");
  if (str_field(properties, "body_encoding") == "base64") {
    auto d = base64_decode(body);
    if (!d.ok()) return status::corruption("body: " + d.error().message());
    decoded = std::move(d).value();
    body = decoded;
  }
  // The body is read as text (json_text.h), not with simdjson: Python's
  // integers have no size limit, and simdjson refuses those beyond 64 bits.
  auto parts = json_text::elements(body);
  if (!parts.ok()) {
    const status valid = json_text::validate(body);
    return status::corruption(valid.ok() ? "body is not [args, kwargs, embed]"
                                         : "body is not JSON: " + valid.message());
  }
  if (parts->size() < 2 || json_text::kind_of((*parts)[0]) != json_text::kind::array ||
      json_text::kind_of((*parts)[1]) != json_text::kind::object)
    return status::corruption("body is not [args, kwargs, embed]");
  m.args_json = json_text::minify((*parts)[0]);
  m.kwargs_json = json_text::minify((*parts)[1]);
  if (parts->size() > 2 && json_text::kind_of((*parts)[2]) == json_text::kind::object) {
    const auto embed = json_text::members((*parts)[2]).value();
    const auto field = [&embed](std::string_view key) {
      const auto v = json_text::find(embed, key);
      return v && *v != "null" ? json_text::minify(*v) : std::string();
    };
    m.callbacks = field("callbacks");
    m.errbacks = field("errbacks");
    m.chain = field("chain");
    m.chord = field("chord");
  }
  return m;
}

std::string mark_redelivered(std::string_view raw) {
  try {
    ordered_json env = ordered_json::parse(raw);
    env["headers"]["redelivered"] = true;
    env["properties"]["delivery_info"]["redelivered"] = true;
    return env.dump();
  } catch (const nlohmann::json::exception&) {
    return std::string(raw);
  }
}

std::string unacked_entry(std::string_view raw, std::string_view exchange, std::string_view routing_key) {
  std::string out = "[";
  out.append(raw).append(", ").append(json(std::string(exchange)).dump()).append(", ");
  out.append(json(std::string(routing_key)).dump()).append("]");
  return out;
}

result<std::string> envelope_of_unacked(std::string_view entry) {
  try {
    const ordered_json e = ordered_json::parse(entry);
    if (!e.is_array() || e.empty() || !e[0].is_object())
      return status::corruption("not [message, exchange, routing_key]");
    return e[0].dump();
  } catch (const nlohmann::json::exception& x) {
    return status::corruption(std::string("not JSON: ") + x.what());
  }
}

}  // namespace scalekit::taskqueue::celery
