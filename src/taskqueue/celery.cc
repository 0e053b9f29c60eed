#include "scalekit/taskqueue/celery.h"

#include <unistd.h>
#include <zlib.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <simdjson.h>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::taskqueue::celery {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

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

std::mutex registry_mutex;
std::set<std::string, std::less<>>& registered() {
  static std::set<std::string, std::less<>> names;
  return names;
}

}  // namespace

std::string new_uuid() {
  thread_local std::mt19937_64 rng(
      std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32) ^
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

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string host_name() {
  char buf[256] = "localhost";
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string utc_isoformat_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(micros));
  return buf;
}

// Base64 (RFC 4648, with padding) by hand: libcrypto did it before, and
// loading libcrypto cost 1.8 ms at every start of scalekit and of each of
// its worker processes, for these two functions alone.
namespace {
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr auto b64_values = [] {
  std::array<std::int8_t, 256> v{};
  v.fill(-1);
  for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
  return v;
}();
}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve(4 * ((data.size() + 2) / 3));
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16 | std::uint32_t{p[i + 1]} << 8 | p[i + 2];
    out += b64_alphabet[v >> 18];
    out += b64_alphabet[(v >> 12) & 63];
    out += b64_alphabet[(v >> 6) & 63];
    out += b64_alphabet[v & 63];
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16 | (rest == 2 ? std::uint32_t{p[i + 1]} << 8 : 0);
    out += b64_alphabet[v >> 18];
    out += b64_alphabet[(v >> 12) & 63];
    out += rest == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return status::corruption("base64 text of " + std::to_string(text.size()) + " characters");
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  std::string out;
  out.reserve(3 * (text.size() / 4));
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      const bool padding = last && c == '=' && k >= 4 - pad;
      const std::int8_t d = b64_values[static_cast<unsigned char>(c)];
      if (!padding && d < 0) return status::corruption("not base64: byte " + std::to_string(i + k));
      v = v << 6 | static_cast<std::uint32_t>(padding ? 0 : d);
    }
    out += static_cast<char>(v >> 16);
    if (!last || pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (!last || pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

std::string pack_bytes(std::string_view data) {
  std::string framed;
  if (data.size() >= 1024) {
    uLongf bound = compressBound(static_cast<uLong>(data.size()));
    std::string z(9 + bound, '\0');
    z[0] = 'z';
    const std::uint64_t n = data.size();
    std::memcpy(z.data() + 1, &n, 8);
    if (compress2(reinterpret_cast<Bytef*>(z.data() + 9), &bound, reinterpret_cast<const Bytef*>(data.data()),
                  static_cast<uLong>(data.size()), 1) == Z_OK &&
        bound + 9 < data.size()) {
      z.resize(9 + bound);
      framed = std::move(z);
    }
  }
  if (framed.empty()) {
    framed.reserve(data.size() + 1);
    framed.push_back('r');
    framed.append(data);
  }
  return "\"" + base64_encode(framed) + "\"";  // base64 needs no JSON escaping
}

result<std::string> unpack_bytes(std::string_view json_string) {
  std::string text;
  if (json_string.size() >= 2 && json_string.front() == '"' && json_string.back() == '"' &&
      json_string.find('\\') == std::string_view::npos) {
    text = json_string.substr(1, json_string.size() - 2);
  } else {
    try {
      text = json::parse(json_string).get<std::string>();
    } catch (const json::exception& e) {
      return status::corruption(std::string("not a JSON string: ") + e.what());
    }
  }
  auto framed = base64_decode(text);
  if (!framed.ok()) return framed.error();
  const std::string& f = framed.value();
  if (!f.empty() && f[0] == 'r') return f.substr(1);
  if (f.size() < 9 || f[0] != 'z') return status::corruption("packed bytes of an unknown kind");
  std::uint64_t n = 0;
  std::memcpy(&n, f.data() + 1, 8);
  if (n > (std::uint64_t{1} << 32)) return status::too_large("packed bytes claim " + std::to_string(n) + " bytes");
  std::string out(n, '\0');
  uLongf len = static_cast<uLongf>(n);
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(f.data() + 9),
                 static_cast<uLong>(f.size() - 9)) != Z_OK ||
      len != n)
    return status::corruption("packed bytes do not inflate");
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
  static const std::string origin = "gen" + std::to_string(::getpid()) + "@" + host_name();

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

namespace {

// simdjson lookups that tolerate absence and wrong types: absent, null or
// mistyped fields read as empty / unset, as Celery's own defaults do.
std::string_view str_field(simdjson::dom::object o, std::string_view key) {
  std::string_view v;
  if (o.at_key(key).get_string().get(v)) return {};
  return v;
}

}  // namespace

result<task_message> parse_envelope(std::string_view raw, std::string* id_out) {
  // The worker's hot path: simdjson, with parsers reused per thread (one for
  // the envelope, one for its body: a parse invalidates its parser's last document).
  thread_local simdjson::dom::parser envelope_parser, body_parser;
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
  std::int64_t n = 0;
  if (!headers["retries"].get_int64().get(n)) m.retries = static_cast<int>(n);
  bool b = false;
  if (!headers["ignore_result"].get_bool().get(b)) m.ignore_result = b;
  if (!headers["redelivered"].get_bool().get(b)) m.redelivered = b;
  double t = 0;
  if (!headers["scalekit_published"].get_double().get(t)) m.published = t;
  if (auto eta = str_field(headers, "eta"); !eta.empty()) m.eta = parse_iso8601(std::string(eta));
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
  simdjson::dom::element parsed_body;
  if (auto err = body_parser.parse(body.data(), body.size()).get(parsed_body); err)
    return status::corruption(std::string("body is not JSON: ") + simdjson::error_message(err));
  simdjson::dom::array parts, args;
  simdjson::dom::object kwargs;
  if (parsed_body.get_array().get(parts) || parts.size() < 2 || parts.at(0).get_array().get(args) ||
      parts.at(1).get_object().get(kwargs))
    return status::corruption("body is not [args, kwargs, embed]");
  m.args_json = simdjson::minify(args);
  m.kwargs_json = simdjson::minify(kwargs);
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

namespace {

// A JSON string literal (quotes included).
std::string json_quoted(std::string_view text) { return json(std::string(text)).dump(); }

// A result meta in Celery's key order: status, result, traceback, children,
// date_done, [group_id], task_id (group_id left out when empty), with
// Python's json.dumps spacing. Written by hand: the worker writes one per task.
std::string meta_json(std::string_view state, std::string_view result_json, std::string_view traceback_json,
                      std::string_view task_id, std::string_view group_id) {
  std::string m;
  m.reserve(result_json.size() + traceback_json.size() + 200);
  m.append("{\"status\": ").append(json_quoted(state));
  m.append(", \"result\": ").append(result_json);
  m.append(", \"traceback\": ").append(traceback_json);
  m.append(", \"children\": [], \"date_done\": ").append(json_quoted(utc_isoformat_now()));
  if (!group_id.empty()) m.append(", \"group_id\": ").append(json_quoted(group_id));
  m.append(", \"task_id\": ").append(json_quoted(task_id)).append("}");
  return m;
}

std::string exception_meta(std::string_view state, std::string_view task_id, std::string_view exc_type,
                           std::string_view exc_module, std::string_view message, std::string_view traceback,
                           std::string_view group_id) {
  const std::string exc = "{\"exc_type\": " + json_quoted(exc_type) + ", \"exc_message\": [" + json_quoted(message) +
                          "], \"exc_module\": " + json_quoted(exc_module) + "}";
  return meta_json(state, exc, traceback.empty() ? "null" : json_quoted(traceback), task_id, group_id);
}

}  // namespace

std::string success_meta(std::string_view task_id, std::string_view result_json, std::string_view group_id) {
  return meta_json("SUCCESS", result_json, "null", task_id, group_id);
}

std::string failure_meta(std::string_view task_id, std::string_view exc_type, std::string_view exc_module,
                         std::string_view message, std::string_view traceback, std::string_view group_id) {
  return exception_meta("FAILURE", task_id, exc_type, exc_module, message, traceback, group_id);
}

std::string revoked_meta(std::string_view task_id, std::string_view reason, std::string_view group_id) {
  return exception_meta("REVOKED", task_id, "TaskRevokedError", "celery.exceptions", reason, "", group_id);
}

result<task_state> parse_meta(std::string_view meta) {
  // The client's hot path: one per task.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(meta.data(), meta.size()).get(doc); err)
    return status::corruption(std::string("a result that is not JSON: ") + simdjson::error_message(err));
  simdjson::dom::object m;
  if (doc.get_object().get(m)) return status::corruption("a result that is not a JSON object");
  task_state s;
  s.status = str_field(m, "status");
  if (s.status.empty()) return status::corruption("a result without a status");
  simdjson::dom::element r;
  if (m["result"].get(r)) return s;
  s.result_json = simdjson::minify(r);
  simdjson::dom::object exc;
  if (s.status == "FAILURE" && !r.get_object().get(exc)) {
    s.exc_type = str_field(exc, "exc_type");
    simdjson::dom::element msg;
    if (!exc["exc_message"].get(msg)) {
      simdjson::dom::array a;
      std::string_view text;
      if (!msg.get_array().get(a) && a.size() > 0) {
        if (a.at(0).get_string().get(text)) {
          s.exc_message = simdjson::minify(a.at(0).value());
        } else {
          s.exc_message = text;
        }
      } else if (!msg.get_string().get(text)) {
        s.exc_message = text;
      } else {
        s.exc_message = simdjson::minify(msg);
      }
    }
  }
  return s;
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
  core::task_registry::global().add(
      core_task_name(name), [fn = std::move(fn)](std::string_view payload) -> core::bytes {
        core::wire_reader in(payload);
        const std::string_view args = in.get_string(), kwargs = in.get_string();
        try {
          std::string r = fn(args, kwargs);
          r.insert(r.begin(), 'S');
          return r;
        } catch (const task_exception& e) {
          return "F" + core::wire_writer().put_string(e.exc_type).put_string(e.exc_module).put_string(e.what()).take();
        } catch (const std::exception& e) {
          return "F" +
                 core::wire_writer().put_string("RuntimeError").put_string("builtins").put_string(e.what()).take();
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

}  // namespace scalekit::taskqueue::celery
