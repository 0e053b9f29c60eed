#pragma once
// Celery's remote control over Redis (spec section 12): kombu's pidbox. A
// client (`celery inspect ping`, `app.control.revoke(id)`) PUBLISHes a
// request envelope on the fanout channel "/<db>.celery.pidbox"; every worker
// the request is for runs the method and, when the request has a reply_to,
// LPUSHes a reply envelope to the client's reply queue, which it finds in
// kombu's routing table of the reply exchange:
//
//   PUBLISH /0.celery.pidbox {"body": base64({"method": "ping", "arguments": {},
//           "destination": null, "pattern": null, "matcher": null, "ticket": T,
//           "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": OID}}), ...}
//   SMEMBERS _kombu.binding.reply.celery.pidbox   ->  "OID\x06\x16\x06\x16OID.reply.celery.pidbox"
//   LPUSH OID.reply.celery.pidbox {"body": base64({"<hostname>": {"ok": "pong"}}),
//         "headers": {"ticket": T, "clock": N}, ...}
//
// No I/O. Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::celery {

/// A remote control request, as a worker needs it.
struct control_request {
  std::string method;
  std::string arguments_json = "{}";                      ///< the arguments, a JSON object
  std::vector<std::string> destination;                   ///< empty: every worker
  std::string reply_exchange, reply_routing_key, ticket;  ///< empty: no reply wanted
  // The arguments the worker's commands read (absent: their defaults).
  std::vector<std::string> task_ids;  ///< revoke: task_id, one id or a list (query_task: ids)
  bool terminate = false;             ///< revoke
  std::string signal = "SIGTERM";     ///< revoke: how to end a terminated task, as given (signal_number() reads it)
  long long n = 1;                    ///< pool_grow, pool_shrink
  std::string task_name, rate_limit;  ///< rate_limit: the task, and its rate as given ("" for none)
  [[nodiscard]] bool wants_reply() const { return !reply_routing_key.empty(); }
  /// kombu's Node.handle_message: no destination, or `hostname` among them.
  [[nodiscard]] bool is_for(std::string_view hostname) const;
};

/// Parse a request envelope (the payload PUBLISHed on the pidbox channel).
/// @return corruption naming the problem for anything else.
result<control_request> parse_control(std::string_view envelope);

/// The reply envelope for `request` from worker `hostname`: body
/// {"<hostname>": <reply_json>} (REQUIRES: reply_json is valid JSON).
std::string make_control_reply(const control_request& request, std::string_view hostname, std::string_view reply_json,
                               unsigned long long clock);

/// The queue that kombu's direct exchange routes `routing_key` to, from the
/// members of its binding set ("<key> SEP <pattern> SEP <queue>"); "" when
/// none (the client has gone: no reply is sent).
std::string reply_queue(const std::vector<std::string>& binding_members, std::string_view routing_key);

/// Celery's signum(): a signal number, or an upper-case name with or
/// without "SIG" ("SIGKILL", "KILL", "9"); nullopt for anything else.
std::optional<int> signal_number(std::string_view name);

/// Celery's rate(): "10/s", "100/m", "2/h" or "5" (per second) as tasks per
/// second; 0 for "" or "0" (no limit); nullopt when it is not a rate.
std::optional<double> parse_rate(std::string_view text);

/// Celery's {"ok": message} and {"error": message} replies.
std::string ok_reply(std::string_view message);
std::string error_reply(std::string_view message);

}  // namespace scalekit::taskqueue::celery
