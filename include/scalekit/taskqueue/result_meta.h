#pragma once
// Result metas: the JSON document Celery stores under celery-task-meta-<id>
// and publishes on the channel of the same name (spec section 6.2). Built
// by hand in Celery's key order and spacing (status, result, traceback,
// children, date_done, [group_id], task_id), so a Python client sees what a
// Python worker would have written; parsed with simdjson (the client reads
// one per task).
//
// Thread safety: every function may be called from any thread (the parser is
// per thread).

#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::taskqueue::celery {

/// Where a result sits in a canvas: the meta's group_id, parent_id (each left
/// out when empty, as Celery leaves them out) and children (the tasks this one
/// published: "[[[\"<id>\", null], null], ...]", Celery's result tuples).
struct meta_links {
  std::string_view group_id, parent_id;
  std::string_view children_json = "[]";
};

/// A meta in Celery's key order: status, result, traceback, children,
/// date_done, [group_id], [parent_id], task_id. `result_json` and
/// `traceback_json` are JSON texts, embedded as they are.
std::string make_meta(std::string_view state, std::string_view task_id, std::string_view result_json,
                      std::string_view traceback_json, const meta_links& links);

/// Celery's encoding of an exception as a result: {"exc_type": T,
/// "exc_message": [message], "exc_module": M}.
std::string exception_json(std::string_view exc_type, std::string_view exc_module, std::string_view message);

/// A SUCCESS meta holding `result_json` (REQUIRES: valid JSON; embedded as is).
/// group_id is left out when `group_id` is empty. date_done is now.
std::string success_meta(std::string_view task_id, std::string_view result_json, std::string_view group_id);

/// A FAILURE meta: the exception Python's client rebuilds on get(),
/// {"exc_type": ..., "exc_message": [message], "exc_module": ...}. An empty
/// `traceback` is stored as null.
std::string failure_meta(std::string_view task_id, std::string_view exc_type, std::string_view exc_module,
                         std::string_view message, std::string_view traceback, std::string_view group_id);

/// A REVOKED meta (an expired task), as Celery stores it:
/// celery.exceptions.TaskRevokedError(reason), no traceback.
std::string revoked_meta(std::string_view task_id, std::string_view reason, std::string_view group_id);

/// What a client needs from a meta.
struct task_state {
  std::string status;                 ///< SUCCESS, FAILURE, REVOKED, PENDING, STARTED, RETRY, ...
  std::string result_json;            ///< the "result" field as minified JSON text ("" when absent)
  std::string exc_type, exc_message;  ///< FAILURE: the exception's class and first argument
  [[nodiscard]] bool ready() const { return status == "SUCCESS" || status == "FAILURE" || status == "REVOKED"; }
};

/// Parse a meta written by any Celery worker. For a FAILURE whose result is an
/// object, exc_message is the first element of its exc_message list (Celery 5;
/// as JSON text when that element is not a string), or the field itself when it
/// is a string, or else the field's JSON text.
/// @return corruption when `meta` is not a JSON object or has no status.
result<task_state> parse_meta(std::string_view meta);

}  // namespace scalekit::taskqueue::celery
