#include "scalekit/dist/celery.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::dist::celery {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
  char buf[256] = "localhost";
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// Python's repr() of a JSON value, for the argsrepr/kwargsrepr headers (logs only).
std::string py_repr(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "None";
    case json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case json::value_t::string: {
      std::string out = "'";
      for (char c : v.get_ref<const std::string&>()) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    }
    case json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + py_repr(v[i]);
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out += (first ? "'" : ", '") + it.key() + "': " + py_repr(it.value());
        first = false;
      }
      return out + "}";
    }
    default: return v.dump();
  }
}

std::string args_repr(const json& args) {
  std::string out = "(";
  for (std::size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + py_repr(args[i]);
  return out + (args.size() == 1 ? ",)" : ")");
}

// "2026-11-22T09:22:26.402555+00:00" (or with Z, or naive UTC) as unix time.
std::optional<double> parse_iso8601(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double t = static_cast<double>(::timegm(&tm));
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, scale /= 10) t += (s[i] - '0') * scale;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) >= 1) t -= (s[i] == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
  }
  return t;
}

std::optional<double> optional_time(const json& headers, const char* key) {
  auto it = headers.find(key);
  if (it == headers.end() || !it->is_string()) return std::nullopt;
  return parse_iso8601(it->get<std::string>());
}

std::string string_or_empty(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::mutex registry_mutex;
std::set<std::string, std::less<>>& registered() {
  static std::set<std::string, std::less<>> names;
  return names;
}

}  // namespace

std::string new_uuid() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32) ^
                                   static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string utc_isoformat_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(micros));
  return buf;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return status::corruption("base64 text of " + std::to_string(text.size()) + " characters");
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return status::corruption("not base64");
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as bytes: drop them.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() > 1 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string queue_key(std::string_view queue, int priority) {
  const int bucket = priority <= 0 ? 0 : priority >= 9 ? 9 : priority / 3 * 3;
  if (bucket == 0) return std::string(queue);
  return std::string(queue) + std::string(sep) + std::to_string(bucket);
}

std::vector<std::string> queue_keys(std::string_view queue) {
  return {queue_key(queue, 0), queue_key(queue, 3), queue_key(queue, 6), queue_key(queue, 9)};
}

std::string queue_of_key(std::string_view key) {
  const auto at = key.find(sep);
  return std::string(at == std::string_view::npos ? key : key.substr(0, at));
}

std::string binding_member(std::string_view queue) {
  return std::string(queue) + std::string(sep) + std::string(sep) + std::string(queue);
}

std::string make_envelope(std::string_view name, std::string_view args_json, std::string_view kwargs_json,
                          const publish_options& o, std::string* id_out) {
  json args, kwargs;
  try {
    args = json::parse(args_json);
    kwargs = json::parse(kwargs_json);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("task arguments are not JSON: ") + e.what());
  }
  if (!args.is_array()) throw std::invalid_argument("task args must be a JSON array");
  if (!kwargs.is_object()) throw std::invalid_argument("task kwargs must be a JSON object");
  const std::string id = o.id.empty() ? new_uuid() : o.id;
  if (id_out) *id_out = id;
  static const std::string origin = "gen" + std::to_string(::getpid()) + "@" + hostname();

  std::string body = "[";
  body.append(args.dump()).append(", ").append(kwargs.dump());
  body += R"(, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}])";

  ordered_json headers;
  headers["lang"] = "py";
  headers["task"] = name;
  headers["id"] = id;
  headers["shadow"] = nullptr;
  headers["eta"] = nullptr;
  headers["expires"] = nullptr;
  headers["group"] = o.group.empty() ? ordered_json(nullptr) : ordered_json(o.group);
  headers["group_index"] = nullptr;
  headers["retries"] = 0;
  headers["timelimit"] = ordered_json::array({nullptr, nullptr});
  headers["root_id"] = id;
  headers["parent_id"] = nullptr;
  headers["argsrepr"] = args_repr(args);
  headers["kwargsrepr"] = py_repr(kwargs);
  headers["origin"] = origin;
  headers["ignore_result"] = o.ignore_result;
  headers["scalekit_published"] = unix_now();  // lets `worker --status` tell how long a task has waited

  ordered_json properties;
  properties["correlation_id"] = id;
  properties["reply_to"] = new_uuid();
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
  task_message m;
  try {
    const json env = json::parse(raw);
    if (!env.is_object()) return status::corruption("the message is not a JSON object");
    const json& headers = env.value("headers", json::object());
    const json& properties = env.value("properties", json::object());
    if (!headers.is_object() || !properties.is_object()) return status::corruption("headers or properties are not objects");
    m.id = string_or_empty(headers, "id");
    if (id_out) *id_out = m.id;
    m.task = string_or_empty(headers, "task");
    if (m.task.empty() || m.id.empty())
      return status::corruption("not a Celery protocol-2 task message (no task name or id in its headers)");
    m.delivery_tag = string_or_empty(properties, "delivery_tag");
    if (m.delivery_tag.empty()) return status::corruption("no delivery_tag in its properties");
    const std::string type = string_or_empty(env, "content-type");
    if (type != "application/json")
      return status::corruption("body serialized as '" + type + "'; only application/json is understood");
    m.group = string_or_empty(headers, "group");
    m.root_id = string_or_empty(headers, "root_id");
    m.parent_id = string_or_empty(headers, "parent_id");
    if (auto it = headers.find("retries"); it != headers.end() && it->is_number_integer()) m.retries = it->get<int>();
    if (auto it = headers.find("ignore_result"); it != headers.end() && it->is_boolean()) m.ignore_result = it->get<bool>();
    if (auto it = headers.find("redelivered"); it != headers.end() && it->is_boolean()) m.redelivered = it->get<bool>();
    if (auto it = headers.find("scalekit_published"); it != headers.end() && it->is_number()) m.published = it->get<double>();
    m.eta = optional_time(headers, "eta");
    m.expires = optional_time(headers, "expires");
    if (auto it = properties.find("priority"); it != properties.end() && it->is_number_integer()) m.priority = it->get<int>();
    const json& info = properties.value("delivery_info", json::object());
    m.exchange = string_or_empty(info, "exchange");
    if (const std::string rk = string_or_empty(info, "routing_key"); !rk.empty()) m.routing_key = rk;

    std::string body = string_or_empty(env, "body");
    if (string_or_empty(properties, "body_encoding") == "base64") {
      auto decoded = base64_decode(body);
      if (!decoded.ok()) return status::corruption("body: " + decoded.error().message());
      body = std::move(decoded).value();
    }
    const json b = json::parse(body);
    if (!b.is_array() || b.size() < 2 || !b[0].is_array() || !b[1].is_object())
      return status::corruption("body is not [args, kwargs, embed]");
    m.args_json = b[0].dump();
    m.kwargs_json = b[1].dump();
  } catch (const json::exception& e) {
    return status::corruption(std::string("not JSON: ") + e.what());
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
    if (!e.is_array() || e.empty() || !e[0].is_object()) return status::corruption("not [message, exchange, routing_key]");
    return e[0].dump();
  } catch (const nlohmann::json::exception& x) {
    return status::corruption(std::string("not JSON: ") + x.what());
  }
}

namespace {
ordered_json meta_head(std::string_view status_name) {
  ordered_json m;
  m["status"] = status_name;
  return m;
}
std::string meta_tail(ordered_json m, std::string_view task_id, std::string_view group_id) {
  m["children"] = ordered_json::array();
  m["date_done"] = utc_isoformat_now();
  if (!group_id.empty()) m["group_id"] = group_id;
  m["task_id"] = task_id;
  return m.dump();
}
}  // namespace

std::string success_meta(std::string_view task_id, std::string_view result_json, std::string_view group_id) {
  // The result is spliced in as it is: re-parsing a large result just to embed it would cost more than the task.
  ordered_json m = meta_head("SUCCESS");
  m["result"] = nullptr;
  m["traceback"] = nullptr;
  std::string text = meta_tail(std::move(m), task_id, group_id);
  const std::string placeholder = "\"result\":null";
  const auto at = text.find(placeholder);
  text.replace(at, placeholder.size(), "\"result\":" + std::string(result_json));
  return text;
}

namespace {
std::string exception_meta(std::string_view state, std::string_view task_id, std::string_view exc_type,
                           std::string_view exc_module, std::string_view message, std::string_view traceback,
                           std::string_view group_id) {
  ordered_json m = meta_head(state);
  m["result"] = ordered_json{{"exc_type", exc_type},
                             {"exc_message", ordered_json::array({message})},
                             {"exc_module", exc_module}};
  m["traceback"] = traceback.empty() ? ordered_json(nullptr) : ordered_json(traceback);
  return meta_tail(std::move(m), task_id, group_id);
}
}  // namespace

std::string failure_meta(std::string_view task_id, std::string_view exc_type, std::string_view exc_module,
                         std::string_view message, std::string_view traceback, std::string_view group_id) {
  return exception_meta("FAILURE", task_id, exc_type, exc_module, message, traceback, group_id);
}

std::string revoked_meta(std::string_view task_id, std::string_view reason, std::string_view group_id) {
  return exception_meta("REVOKED", task_id, "TaskRevokedError", "celery.exceptions", reason, "", group_id);
}

result<task_state> parse_meta(std::string_view meta) {
  try {
    const json m = json::parse(meta);
    task_state s;
    s.status = string_or_empty(m, "status");
    if (s.status.empty()) return status::corruption("a result without a status");
    const json& r = m.value("result", json());
    s.result_json = r.dump();
    if (s.status == "FAILURE" && r.is_object()) {
      s.exc_type = string_or_empty(r, "exc_type");
      const json& msg = r.value("exc_message", json());
      s.exc_message = msg.is_array() && !msg.empty() ? (msg[0].is_string() ? msg[0].get<std::string>() : msg[0].dump())
                      : msg.is_string()           ? msg.get<std::string>()
                                                  : msg.dump();
    }
    return s;
  } catch (const json::exception& e) {
    return status::corruption(std::string("a result that is not JSON: ") + e.what());
  }
}

// ---- the registry ----

std::string core_task_name(std::string_view name) { return "celery:" + std::string(name); }

bool is_registered(std::string_view name) {
  std::scoped_lock lock(registry_mutex);
  return registered().find(name) != registered().end();
}

std::string encode_call(std::string_view args_json, std::string_view kwargs_json) {
  return core::wire_writer().put_string(args_json).put_string(kwargs_json).take();
}

void register_task(const std::string& name, task_fn fn) {
  {
    std::scoped_lock lock(registry_mutex);
    registered().insert(name);
  }
  core::task_registry::global().add(core_task_name(name), [fn = std::move(fn)](std::string_view payload) -> core::bytes {
    core::wire_reader in(payload);
    const std::string_view args = in.get_string(), kwargs = in.get_string();
    try {
      std::string r = fn(args, kwargs);
      r.insert(r.begin(), 'S');
      return r;
    } catch (const task_exception& e) {
      return "F" + core::wire_writer().put_string(e.exc_type).put_string(e.exc_module).put_string(e.what()).take();
    } catch (const std::exception& e) {
      return "F" + core::wire_writer().put_string("RuntimeError").put_string("builtins").put_string(e.what()).take();
    }
  });
}

outcome decode_outcome(std::string_view bytes) {
  outcome o;
  if (!bytes.empty() && bytes[0] == 'S') {
    o.ok = true;
    o.result_json = std::string(bytes.substr(1));
    return o;
  }
  try {
    core::wire_reader in(bytes.substr(bytes.empty() ? 0 : 1));
    o.exc_type = in.get_string();
    o.exc_module = in.get_string();
    o.message = in.get_string();
  } catch (const core::wire_error& e) {
    o.exc_type = "RuntimeError";
    o.exc_module = "builtins";
    o.message = std::string("undecodable task outcome: ") + e.what();
  }
  return o;
}

}  // namespace scalekit::dist::celery
