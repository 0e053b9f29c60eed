#include "events.h"

#include <unistd.h>

#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::detail {

std::string event_envelope(const worker_context& w, const std::string& type, const nlohmann::ordered_json& event) {
  std::string routing = type;
  for (char& c : routing)
    if (c == '-') c = '.';
  nlohmann::json envelope{{"body", celery::base64_encode(event.dump())},
                          {"content-encoding", "utf-8"},
                          {"content-type", "application/json"},
                          {"headers", {{"hostname", w.name}}},
                          {"properties",
                           {{"delivery_mode", 1},
                            {"delivery_info", {{"exchange", "celeryev"}, {"routing_key", routing}}},
                            {"priority", 0},
                            {"body_encoding", "base64"},
                            {"delivery_tag", celery::new_uuid()}}}};
  return envelope.dump();
}

core::task<void> send_event(worker_context& w, std::string type, nlohmann::ordered_json fields) {
  if (!w.task_events && type.rfind("task-", 0) == 0) co_return;
  nlohmann::ordered_json event = std::move(fields);
  event["hostname"] = w.name;
  event["utcoffset"] = 0;
  event["pid"] = ::getpid();
  event["clock"] = ++w.event_clock;
  event["timestamp"] = celery::unix_now();
  event["type"] = type;
  co_await w.cmd.command(words("PUBLISH", celery::event_channel(w.endpoint.db, type), event_envelope(w, type, event)));
}

}  // namespace scalekit::taskqueue::detail
