#include "scalekit/taskqueue/registry.h"

#include <mutex>
#include <set>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::taskqueue::celery {

namespace {

// The Celery names registered, for is_registered(); their functions live in
// core::task_registry under core_task_name().
std::mutex registry_mutex;
std::set<std::string, std::less<>>& registered() {
  static std::set<std::string, std::less<>> names;
  return names;
}

}  // namespace

std::string core_task_name(std::string_view name) { return "celery:" + std::string(name); }

bool is_registered(std::string_view name) {
  std::scoped_lock lock(registry_mutex);
  return registered().find(name) != registered().end();
}

std::vector<std::string> registered_names() {
  std::scoped_lock lock(registry_mutex);
  return {registered().begin(), registered().end()};
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
