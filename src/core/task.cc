#include "scalekit/core/task.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>

namespace scalekit::core {

task_registry& task_registry::global() {
  static task_registry registry;
  return registry;
}

void task_registry::add(std::string name, task_fn fn) {
  auto [it, inserted] = tasks_.emplace(std::move(name), std::move(fn));
  if (!inserted) throw std::invalid_argument("task '" + it->first + "' is already registered");
}

const task_fn* task_registry::find(std::string_view name) const {
  auto it = tasks_.find(name);
  return it == tasks_.end() ? nullptr : &it->second;
}

bool run_task_inline(std::string_view name, std::string_view payload, bytes& out) noexcept {
  try {
    const task_fn* fn = task_registry::global().find(name);
    if (fn == nullptr) {
      out = "unknown task '" + std::string(name) + "'";
      return false;
    }
    out = (*fn)(payload);
    return true;
  } catch (const std::exception& e) {
    try {
      out = e.what();
    } catch (...) {
    }
    return false;
  } catch (...) {
    out = "unknown exception";
    return false;
  }
}

std::string runner_name() {
  if (const char* v = std::getenv(runner_env); v != nullptr && *v != '\0') return v;
  return "pid " + std::to_string(::getpid());
}

}  // namespace scalekit::core
