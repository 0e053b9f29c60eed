#include "scalekit/taskqueue/canvas.h"

#include <cstdlib>
#include <stdexcept>

#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/json_text.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::celery {

namespace {

using options_list = std::vector<std::pair<std::string, std::string>>;

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument("not a signature: " + why); }

// A signature's fields, as texts of the signature's JSON (which outlives it).
struct signature {
  std::string task;
  std::string_view args = "[]", kwargs = "{}";
  options_list options;  // its own options, in order
  std::string subtask_type;
  bool immutable = false;
};

signature parse_signature(std::string_view text) {
  auto fields = json_text::members(text);
  if (!fields.ok()) bad(fields.error().message());
  signature s;
  const auto& f = fields.value();
  if (auto t = json_text::find(f, "task")) s.task = json_text::string_value(*t).value_or("");
  if (auto a = json_text::find(f, "args"); a && *a != "null") {
    if (json_text::kind_of(*a) != json_text::kind::array) bad("args is not a list");
    s.args = *a;
  }
  if (auto k = json_text::find(f, "kwargs"); k && *k != "null") {
    if (json_text::kind_of(*k) != json_text::kind::object) bad("kwargs is not a dict");
    s.kwargs = *k;
  }
  if (auto o = json_text::find(f, "options"); o && *o != "null") {
    auto opts = json_text::members(*o);
    if (!opts.ok()) bad("options is not a dict");
    for (const auto& m : opts.value())
      if (m.value != "null") s.options.emplace_back(m.key, std::string(m.value));
  }
  if (auto st = json_text::find(f, "subtask_type")) s.subtask_type = json_text::string_value(*st).value_or("");
  if (auto im = json_text::find(f, "immutable")) s.immutable = *im == "true";
  if (s.task.empty() && s.subtask_type.empty()) bad("no task name");
  return s;
}

const std::string* find_option(const options_list& o, std::string_view key) {
  for (auto it = o.rbegin(); it != o.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

void put_option(options_list& o, std::string key, std::string json) {
  for (auto& [k, v] : o)
    if (k == key) {
      v = std::move(json);
      return;
    }
  o.emplace_back(std::move(key), std::move(json));
}

// Signature._merge: the new options over the signature's own, but a group_id
// it has stays (Celery's _IMMUTABLE_OPTIONS).
options_list merged(const signature& s, const apply_options& extra) {
  options_list o = s.options;
  for (const auto& [k, v] : extra.values()) {
    if (k == "group_id" && find_option(o, "group_id")) continue;
    put_option(o, k, v);
  }
  return o;
}

std::string string_of(const options_list& o, std::string_view key) {
  const std::string* v = find_option(o, key);
  return v ? json_text::string_value(*v).value_or("") : "";
}

// The arguments after Celery's partial application: partial + own, unless immutable.
std::string args_with(const signature& s, const std::vector<std::string>& partial) {
  if (s.immutable || partial.empty()) return std::string(s.args);
  std::string out = "[";
  for (const auto& p : partial) out.append(out.size() > 1 ? ", " : "").append(p);
  const auto own = json_text::elements(s.args).value();
  for (auto a : own) out.append(", ").append(a);
  return out + "]";
}

// maybe_list: a list stays, one signature becomes [it].
std::string as_list(const std::string& json) {
  return json_text::kind_of(json) == json_text::kind::array ? json : "[" + json + "]";
}

// A number of seconds (JSON text) from now, as an ISO 8601 time.
std::string seconds_from_now(const std::string& json) {
  if (json_text::kind_of(json) != json_text::kind::number) bad("a time offset that is not a number");
  return utc_isoformat(unix_now() + std::strtod(json.c_str(), nullptr));
}

void publish_task(const signature& s, const std::string& args, const options_list& o, canvas_effects& out) {
  publish_options p;
  p.id = string_of(o, "task_id");
  if (p.id.empty()) p.id = new_uuid();
  p.group = string_of(o, "group_id");
  if (const auto* gi = find_option(o, "group_index")) p.group_index = *gi;
  if (const auto* v = find_option(o, "chord")) p.chord = *v;
  if (const auto* v = find_option(o, "link")) p.callbacks = as_list(*v);
  if (const auto* v = find_option(o, "link_error")) p.errbacks = as_list(*v);
  if (const auto* v = find_option(o, "chain")) p.chain = *v;
  p.root_id = string_of(o, "root_id");
  p.parent_id = string_of(o, "parent_id");
  p.reply_to = string_of(o, "reply_to");
  if (const auto* q = find_option(o, "queue")) {
    if (json_text::kind_of(*q) == json_text::kind::object) {
      const auto fields = json_text::members(*q).value();
      if (auto name = json_text::find(fields, "name")) p.queue = json_text::string_value(*name).value_or(p.queue);
    } else {
      p.queue = json_text::string_value(*q).value_or(p.queue);
    }
  } else if (auto rk = string_of(o, "routing_key"); !rk.empty()) {
    p.queue = rk;
  }
  if (const auto* pr = find_option(o, "priority")) p.priority = std::atoi(pr->c_str());
  if (const auto* c = find_option(o, "countdown")) {
    p.eta = seconds_from_now(*c);
  } else if (auto eta = string_of(o, "eta"); !eta.empty()) {
    p.eta = eta;
  }
  if (const auto* e = find_option(o, "expires"))
    p.expires = json_text::kind_of(*e) == json_text::kind::number ? seconds_from_now(*e) : string_of(o, "expires");
  if (const auto* t = find_option(o, "time_limit")) p.time_limit = *t;
  if (const auto* t = find_option(o, "soft_time_limit")) p.soft_time_limit = *t;
  if (const auto* r = find_option(o, "retries")) p.retries = std::atoi(r->c_str());
  if (const auto* ir = find_option(o, "ignore_result")) p.ignore_result = *ir == "true";
  std::string id;
  std::string env = make_envelope(s.task, args, s.kwargs, p, &id);
  out.messages.push_back({queue_key(p.queue, p.priority), std::move(env), std::move(id)});
}

// `sig` with its options replaced by `o`.
std::string with_options(std::string_view sig, const options_list& o) {
  const auto fields = json_text::members(sig).value();
  std::string out = "{";
  for (const auto& f : fields) {
    if (f.key == "options") continue;
    out.append(out.size() > 1 ? ", " : "").append(json_text::quote(f.key)).append(": ").append(f.value);
  }
  std::string opts = "{";
  for (const auto& [k, v] : o)
    opts.append(opts.size() > 1 ? ", " : "").append(json_text::quote(k)).append(": ").append(v);
  return out.append(out.size() > 1 ? ", " : "").append("\"options\": ").append(opts).append("}}");
}

// The tasks of a group or chord header: a group signature's kwargs.tasks, or a list.
std::vector<std::string> header_tasks(std::string_view header) {
  if (json_text::kind_of(header) == json_text::kind::array) return signature_list(header);
  const signature g = parse_signature(header);
  const auto kw = json_text::members(g.kwargs).value();
  const auto tasks = json_text::find(kw, "tasks");
  return tasks ? signature_list(*tasks) : std::vector<std::string>{};
}

// How many results a header member contributes to its chord (Celery's chord._descend).
std::size_t chord_weight(std::string_view sig, int depth = 0) {
  if (depth > 32) bad("nested too deeply");
  const signature s = parse_signature(sig);
  const auto kw = json_text::members(s.kwargs).value();
  if (s.subtask_type == "group") {
    std::size_t n = 0;
    for (const auto& t : header_tasks(sig)) n += chord_weight(t, depth + 1);
    return n;
  }
  if (s.subtask_type == "chain") {
    const auto tasks = json_text::find(kw, "tasks");
    const auto list = tasks ? signature_list(*tasks) : std::vector<std::string>{};
    for (auto it = list.rbegin(); it != list.rend(); ++it)
      if (const std::size_t n = chord_weight(*it, depth + 1)) return n;
    return 0;
  }
  if (s.subtask_type == "chord") {
    const auto body = json_text::find(kw, "body");
    return body ? chord_weight(*body, depth + 1) : 0;
  }
  return 1;
}

void apply_at(std::string_view sig_text, const std::vector<std::string>& partial, const apply_options& extra,
              canvas_effects& out, int depth);

void apply_group(const signature& s, const options_list& o, const std::vector<std::string>& partial,
                 const apply_options& extra, canvas_effects& out, int depth, std::string_view sig_text) {
  std::string gid = string_of(o, "task_id");
  if (gid.empty()) gid = new_uuid();
  const auto members = header_tasks(sig_text);
  const std::vector<std::string> args = s.immutable ? std::vector<std::string>{} : partial;
  for (std::size_t i = 0; i < members.size(); ++i) {
    apply_options member = extra;
    member.set("task_id", "null");
    member.set_string("group_id", gid);
    if (signature_option(members[i], "group_index").empty()) member.set("group_index", std::to_string(i));
    apply_at(members[i], args, member, out, depth + 1);
  }
}

void apply_chain(const signature& s, const options_list& o, const std::vector<std::string>& partial,
                 const apply_options& extra, canvas_effects& out, int depth) {
  const auto kw = json_text::members(s.kwargs).value();
  const auto tasks_text = json_text::find(kw, "tasks");
  std::vector<std::string> tasks = tasks_text ? signature_list(*tasks_text) : std::vector<std::string>{};
  if (tasks.empty()) return;
  // The chain's own id is its last task's, when that has none yet.
  if (auto last_id = string_of(o, "task_id"); !last_id.empty() && signature_option(tasks.back(), "task_id").empty()) {
    options_list last = parse_signature(tasks.back()).options;
    put_option(last, "task_id", json_text::quote(last_id));
    tasks.back() = with_options(tasks.back(), last);
  }
  // The rest goes into the message's chain, popped from its end: reversed,
  // after what an outer chain left (Celery's _prepare_chain_from_options).
  std::string chain = "[";
  const auto outer = find_option(extra.values(), "chain");
  if (outer && *outer != "null") {
    const auto earlier = json_text::elements(*outer).value();
    for (auto e : earlier) chain.append(chain.size() > 1 ? ", " : "").append(e);
  }
  for (std::size_t k = tasks.size(); k-- > 1;) chain.append(chain.size() > 1 ? ", " : "").append(tasks[k]);
  chain += "]";
  apply_options first = extra;
  first.set("task_id", "null");
  first.set("chain", tasks.size() > 1 || (outer && *outer != "null") ? chain : "null");
  apply_at(tasks.front(), s.immutable ? std::vector<std::string>{} : partial, first, out, depth + 1);
}

void apply_chord(const signature& s, const options_list& o, const std::vector<std::string>& partial,
                 const apply_options& extra, canvas_effects& out, int depth) {
  const auto kw = json_text::members(s.kwargs).value();
  const auto header = json_text::find(kw, "header");
  const auto body_text = json_text::find(kw, "body");
  if (!body_text || *body_text == "null") bad("a chord without a body");
  // The body takes the options the chord was applied with (its chain, its
  // parent), and the chord's task id when it has none (Celery's body.freeze).
  options_list body_opts = parse_signature(*body_text).options;
  for (const auto& [k, v] : extra.values())
    if (k != "task_id" && k != "chord" && k != "group_id" && k != "group_index") put_option(body_opts, k, v);
  if (!find_option(body_opts, "task_id"))
    if (auto id = string_of(o, "task_id"); !id.empty()) put_option(body_opts, "task_id", json_text::quote(id));
  const std::string body = with_options(*body_text, body_opts);
  const auto members = header ? header_tasks(*header) : std::vector<std::string>{};
  std::string gid = header && json_text::kind_of(*header) == json_text::kind::object
                        ? json_text::string_value(signature_option(*header, "task_id")).value_or("")
                        : "";
  if (gid.empty()) gid = new_uuid();
  const std::vector<std::string> args = s.immutable ? std::vector<std::string>{} : partial;
  if (members.empty()) {  // nothing would ever fire the body: Celery calls it at once with []
    apply_options now;
    apply_at(body, {"[]"}, now, out, depth + 1);
    return;
  }
  std::size_t size = 0;
  for (const auto& m : members) size += chord_weight(m);
  out.chord_sizes.emplace_back(chord_key(gid, "s"), std::to_string(size));
  for (std::size_t i = 0; i < members.size(); ++i) {
    apply_options member;
    for (const auto& [k, v] : extra.values())
      if (k != "chain" && k != "chord" && k != "task_id") member.set(k, v);
    member.set_string("group_id", gid);
    if (signature_option(members[i], "group_index").empty()) member.set("group_index", std::to_string(i));
    member.set("chord", body);
    apply_at(members[i], args, member, out, depth + 1);
  }
}

void apply_at(std::string_view sig_text, const std::vector<std::string>& partial, const apply_options& extra,
              canvas_effects& out, int depth) {
  if (depth > 32) bad("nested too deeply");
  const signature s = parse_signature(sig_text);
  const options_list o = merged(s, extra);
  if (s.subtask_type == "chain") {
    apply_chain(s, o, partial, extra, out, depth);
  } else if (s.subtask_type == "group") {
    apply_group(s, o, partial, extra, out, depth, sig_text);
  } else if (s.subtask_type == "chord") {
    apply_chord(s, o, partial, extra, out, depth);
  } else {
    publish_task(s, args_with(s, partial), o, out);
  }
}

}  // namespace

std::string canvas_effects::children_json() const {
  std::string out = "[";
  for (const auto& m : messages)
    out.append(out.size() > 1 ? ", " : "").append("[[").append(json_text::quote(m.task_id)).append(", null], null]");
  return out + "]";
}

apply_options& apply_options::set(std::string key, std::string json) {
  const bool null = json == "null";
  for (auto it = values_.begin(); it != values_.end(); ++it)
    if (it->first == key) {
      if (null) {
        values_.erase(it);
      } else {
        it->second = std::move(json);
      }
      return *this;
    }
  if (!null) values_.emplace_back(std::move(key), std::move(json));
  return *this;
}

apply_options& apply_options::set_string(std::string key, std::string_view value) {
  if (!value.empty()) set(std::move(key), json_text::quote(value));
  return *this;
}

void apply_signature(std::string_view sig, const std::vector<std::string>& partial_args, const apply_options& options,
                     canvas_effects& out) {
  for (const auto& [k, v] : options.values())
    if (!json_text::validate(v).ok()) throw std::invalid_argument("option " + k + " is not JSON");
  apply_at(sig, partial_args, options, out, 0);
}

std::vector<std::string> signature_list(std::string_view json) {
  if (json.empty() || json == "null") return {};
  const auto kind = json_text::kind_of(json);
  if (kind == json_text::kind::object) return {std::string(json)};
  if (kind != json_text::kind::array) bad("expected a signature or a list of them");
  auto items = json_text::elements(json);
  if (!items.ok()) bad(items.error().message());
  std::vector<std::string> out;
  for (auto e : items.value()) {
    if (json_text::kind_of(e) != json_text::kind::object) bad("a list element that is not a signature");
    out.emplace_back(e);
  }
  return out;
}

std::string signature_option(std::string_view sig, std::string_view key) {
  const signature s = parse_signature(sig);
  const std::string* v = find_option(s.options, key);
  return v ? *v : "";
}

}  // namespace scalekit::taskqueue::celery
