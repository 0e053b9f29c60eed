#pragma once
// Internal: Celery's events from a worker (spec section 8.1). With -E (or
// after a remote `enable_events`), task events go out as a Celery worker sends
// them, so `celery events` and anything built on app.events.Receiver see
// scalekit's tasks:
//
//   task-received  uuid, name, args, kwargs (the reprs), root_id, parent_id, retries, eta, expires
//   task-started   uuid, pid
//   task-succeeded uuid, result (repr), runtime
//   task-failed    uuid, exception (repr), traceback
//   task-revoked   uuid, terminated, signum, expired
//
// and worker-online / worker-offline at start and stop (the heartbeat is
// heartbeat.h's). Each is one PUBLISH on "/<db>.celeryev/<type with dots>",
// a kombu envelope whose body holds the event plus hostname, utcoffset, pid,
// clock, timestamp and type. A lost event is not retried (as Celery's).

#include <nlohmann/json.hpp>
#include <string>

#include "context.h"

namespace scalekit::taskqueue::detail {

/// Send event `type` with `fields` when `w.task_events` is on (worker-* events always).
core::task<void> send_event(worker_context& w, std::string type, nlohmann::ordered_json fields);

/// The kombu envelope of an event, as PUBLISHed (also used by the heartbeat).
std::string event_envelope(const worker_context& w, const std::string& type, const nlohmann::ordered_json& event);

}  // namespace scalekit::taskqueue::detail
