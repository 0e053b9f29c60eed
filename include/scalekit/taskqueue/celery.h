#pragma once
// Celery 5.2's formats on Redis (../shared/spec/celery-redis-protocol.md):
// task messages (kombu envelopes with protocol-2 headers and a base64 JSON
// body), result metas, queue keys; and the registry of Celery tasks that
// scalekit implements in C++.
//
// No I/O here: the worker and the client (worker.h, client.h) move these
// strings through Redis. JSON is produced and parsed inside the .cc, so this
// header stays light.

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::celery {

/// kombu's separator in priority queue names and binding members.
inline constexpr std::string_view sep = "\x06\x16";

/// A random (version 4) UUID, lower case with hyphens.
std::string new_uuid();
/// The current time as Python's naive UTC datetime.isoformat(): 2026-11-22T09:22:16.623328
std::string utc_isoformat_now();
/// Seconds since the Unix epoch, as Python's time.time().
double unix_now();
/// This machine's host name ("localhost" when it has none).
std::string host_name();
std::string base64_encode(std::string_view data);
/// @return corruption when `text` is not base64.
result<std::string> base64_decode(std::string_view text);

/// The Redis list that holds `queue`'s messages of `priority` (0..9; bucket 0,
/// 3, 6 or 9): "celery", "celery\x06\x163", ...
std::string queue_key(std::string_view queue, int priority = 0);
/// Every list of `queue`, in the order workers pop them (0, 3, 6, 9).
std::vector<std::string> queue_keys(std::string_view queue);
/// The queue a list key belongs to ("celery\x06\x169" -> "celery").
std::string queue_of_key(std::string_view key);
/// kombu's routing table entry for `queue` (a member of _kombu.binding.<queue>).
std::string binding_member(std::string_view queue);

inline std::string meta_key(std::string_view task_id) { return "celery-task-meta-" + std::string(task_id); }

// ---- task messages ----

struct publish_options {
  std::string queue = "celery";
  std::string id;     ///< empty: a new UUID
  std::string group;  ///< group id, for group members
  int priority = 0;
  bool ignore_result = false;
};

/// The envelope to LPUSH for task `name` with `args_json` (a JSON array) and
/// `kwargs_json` (a JSON object), with every header and property Celery 5.2
/// sends. Stores the task id in *id_out. @throws std::invalid_argument when
/// args/kwargs are not a JSON array/object.
std::string make_envelope(std::string_view name, std::string_view args_json, std::string_view kwargs_json,
                          const publish_options& o, std::string* id_out = nullptr);

/// A task message as a worker sees it.
struct task_message {
  std::string task, id, group, root_id, parent_id;
  std::string args_json = "[]", kwargs_json = "{}";
  std::string delivery_tag, exchange, routing_key = "celery";
  int priority = 0, retries = 0;
  bool ignore_result = false, redelivered = false;
  std::optional<double> eta, expires;  ///< unix times
  std::optional<double> published;     ///< unix time, when a scalekit client sent it
};

/// Parse an envelope. On failure the status names the problem; *id_out (when
/// given) holds the task id if the headers could be read that far, so that the
/// failure can still be stored as the task's result.
result<task_message> parse_envelope(std::string_view raw, std::string* id_out = nullptr);

/// The same envelope with headers.redelivered and
/// properties.delivery_info.redelivered set, as kombu restores a message.
/// @return the input unchanged when it is not JSON.
std::string mark_redelivered(std::string_view raw);

/// The value kombu keeps in the `unacked` hash: [envelope, exchange, routing_key].
std::string unacked_entry(std::string_view raw, std::string_view exchange, std::string_view routing_key);
/// The envelope back out of an `unacked` entry.
result<std::string> envelope_of_unacked(std::string_view entry);

// ---- results ----

/// A SUCCESS meta holding `result_json`.
std::string success_meta(std::string_view task_id, std::string_view result_json, std::string_view group_id);
/// A FAILURE meta: the exception Python's client rebuilds on get().
std::string failure_meta(std::string_view task_id, std::string_view exc_type, std::string_view exc_module,
                         std::string_view message, std::string_view traceback, std::string_view group_id);
/// A REVOKED meta (an expired task), as Celery stores it: TaskRevokedError.
std::string revoked_meta(std::string_view task_id, std::string_view reason, std::string_view group_id);

struct task_state {
  std::string status;                 ///< SUCCESS, FAILURE, ...
  std::string result_json;            ///< the "result" field as JSON text
  std::string exc_type, exc_message;  ///< FAILURE: the exception's class and first argument
  [[nodiscard]] bool ready() const { return status == "SUCCESS" || status == "FAILURE" || status == "REVOKED"; }
};
result<task_state> parse_meta(std::string_view meta);

// ---- Celery tasks implemented in C++ ----

/// Thrown by a task to fail with a given Python exception (the client raises
/// that class): task_exception("ValueError", "builtins", "bad row").
struct task_exception : std::runtime_error {
  task_exception(std::string type, std::string module, const std::string& message)
      : std::runtime_error(message), exc_type(std::move(type)), exc_module(std::move(module)) {}
  std::string exc_type, exc_module;
};

/// args_json (a JSON array) and kwargs_json (a JSON object) in, the result as
/// JSON text out. Any other std::exception fails the task as RuntimeError.
using task_fn = std::function<std::string(std::string_view args_json, std::string_view kwargs_json)>;

/// Register `fn` as Celery task `name` (e.g. "mandelbrot_tasks.mandelbrot_calc_row").
/// It becomes the core task core_task_name(name), so every executor (worker
/// processes included) can run it. REQUIRES: called before executors start.
void register_task(const std::string& name, task_fn fn);
/// The core task that runs Celery task `name`.
std::string core_task_name(std::string_view name);
/// True when `name` was registered.
bool is_registered(std::string_view name);

/// Bytes as a JSON string for scalekit.run's result: base64 of 'z' + length +
/// zlib stream when that is smaller (images compress well), else of 'r' + the bytes.
std::string pack_bytes(std::string_view data);
/// The inverse of pack_bytes, from the JSON string. @return corruption when malformed.
result<std::string> unpack_bytes(std::string_view json_string);

/// The Celery task that runs any registered core task: scalekit.run(name,
/// base64 payload) -> pack_bytes(result). It carries `--executor distributed`.
inline constexpr const char* run_task_name = "scalekit.run";
/// Register scalekit.run and bench_tasks.add(x, y).
void register_builtin_tasks();

/// The payload of a core_task_name() call, and its outcome.
std::string encode_call(std::string_view args_json, std::string_view kwargs_json);
struct outcome {
  bool ok = false;
  std::string result_json;                    ///< when ok
  std::string exc_type, exc_module, message;  ///< when not
};
outcome decode_outcome(std::string_view bytes);

}  // namespace scalekit::taskqueue::celery
