#pragma once
// Task messages: kombu envelopes carrying Celery's protocol-2 headers and a
// base64 JSON body (spec section 3), built for publishing and parsed for
// running; and the two forms kombu gives an envelope while it is reserved:
// the redelivered mark and the `unacked` entry (spec sections 5.2, 5.6).
//
//   {"body": base64("[args, kwargs, embed]"), "content-encoding": "utf-8",
//    "content-type": "application/json", "headers": {...}, "properties": {...}}
//
// No I/O: the worker and the client move these strings through Redis.
//
// Thread safety: every function may be called from any thread (parsers are
// per thread).

#include <optional>
#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::celery {

struct publish_options {
  std::string queue = "celery";  ///< routing_key in delivery_info
  std::string id;                ///< empty: a new UUID
  std::string group;             ///< group id, for group members
  int priority = 0;              ///< properties.priority (0..9); queue_key() picks the list
  bool ignore_result = false;
  // What a worker sets when it publishes a canvas's next tasks (canvas.h);
  // the defaults are a plain call's.
  std::string root_id;                   ///< empty: the task's own id
  std::string parent_id;                 ///< empty: null
  std::string group_index = "null";      ///< JSON: the member's index in its group
  std::string eta, expires;              ///< ISO 8601 times; empty: null
  std::string time_limit = "null";       ///< JSON number of seconds, or null (headers.timelimit[0])
  std::string soft_time_limit = "null";  ///< headers.timelimit[1]
  int retries = 0;
  std::string reply_to;  ///< empty: a new UUID
  /// The body's embed, each JSON text: a list of signatures, or one for chord.
  std::string callbacks = "null", errbacks = "null", chain = "null", chord = "null";
};

/// The envelope to LPUSH for task `name` with `args_json` (a JSON array) and
/// `kwargs_json` (a JSON object), with every header and property Celery 5.2
/// sends, plus headers.scalekit_published (the time, for `worker --status`).
/// Stores the task id in *id_out when given.
/// @throws std::invalid_argument when args/kwargs are not a JSON array/object
/// (*id_out is left unchanged).
std::string make_envelope(std::string_view name, std::string_view args_json, std::string_view kwargs_json,
                          const publish_options& o, std::string* id_out = nullptr);

/// A task message as a worker sees it.
struct task_message {
  std::string task, id, group, root_id, parent_id;
  std::string args_json = "[]", kwargs_json = "{}";  ///< minified
  std::string delivery_tag, exchange, routing_key = "celery";
  int priority = 0, retries = 0;
  bool ignore_result = false, redelivered = false;
  std::optional<double> eta, expires;                 ///< unix times (ISO 8601 in the headers)
  std::string eta_text;                               ///< headers.eta as written ("" when null)
  std::optional<double> published;                    ///< unix time, when a scalekit client sent it
  std::string group_index;                            ///< JSON integer text, "" when null
  std::optional<double> time_limit, soft_time_limit;  ///< seconds (headers.timelimit)
  std::string time_limit_text, soft_time_limit_text;  ///< the same, as written ("" when absent)
  std::string reply_to;
  std::string argsrepr, kwargsrepr, expires_text;  ///< headers as written ("" when absent)
  /// The embed (spec 3.4) as JSON text, "" when null or absent: lists of
  /// signatures for callbacks, errbacks and chain, one signature for chord.
  std::string callbacks, errbacks, chain, chord;
};

/// Parse an envelope. Absent, null or mistyped optional fields read as their
/// defaults, as in Celery.
/// @return corruption naming the problem when `raw` is not JSON, has no task
/// name, id or delivery tag, is not serialized as application/json, or its
/// body is not base64 of [args, kwargs, embed]. *id_out (when given) holds the
/// task id if the headers could be read that far (else empty), so that the
/// failure can still be stored as the task's result.
result<task_message> parse_envelope(std::string_view raw, std::string* id_out = nullptr);

/// The same envelope with headers.redelivered and
/// properties.delivery_info.redelivered set, as kombu restores a message.
/// @return the input unchanged when it is not JSON.
std::string mark_redelivered(std::string_view raw);

/// The value kombu keeps in the `unacked` hash: [envelope, exchange, routing_key].
/// REQUIRES: `raw` is JSON (it is embedded as is).
std::string unacked_entry(std::string_view raw, std::string_view exchange, std::string_view routing_key);
/// The envelope back out of an `unacked` entry (re-serialized, same fields and order).
/// @return corruption when `entry` is not JSON or not [object, ...].
result<std::string> envelope_of_unacked(std::string_view entry);

}  // namespace scalekit::taskqueue::celery
