#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::celery {

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

std::string binding_key(std::string_view queue) { return "_kombu.binding." + std::string(queue); }

std::string binding_member(std::string_view queue) {
  return std::string(queue) + std::string(sep) + std::string(sep) + std::string(queue);
}

std::string meta_key(std::string_view task_id) { return std::string(meta_key_prefix) + std::string(task_id); }

std::string heartbeat_channel(int db) { return "/" + std::to_string(db) + ".celeryev/worker.heartbeat"; }

std::string event_channel(int db, std::string_view type) {
  std::string routing(type);
  for (char& c : routing)
    if (c == '-') c = '.';
  return "/" + std::to_string(db) + ".celeryev/" + routing;
}

std::string chord_key(std::string_view group_id, std::string_view part) {
  return "celery-taskset-meta-" + std::string(group_id) + "." + std::string(part);
}

std::string pidbox_channel(int db) { return "/" + std::to_string(db) + ".celery.pidbox"; }

std::string deliveries_key(std::string_view task_id) { return "scalekit-deliveries-" + std::string(task_id); }

std::string dead_letter_key(std::string_view queue) { return "scalekit-dead-letters-" + std::string(queue); }

std::string worker_key(std::string_view name, long pid) {
  return worker_key_prefix + std::string(name) + "-" + std::to_string(pid);
}

}  // namespace scalekit::taskqueue::celery
