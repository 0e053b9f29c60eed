#pragma once
// The registry of Celery tasks that scalekit implements in C++ (spec section
// 7). A Celery task is a function (args_json, kwargs_json) -> result_json,
// registered under its Celery name; it becomes the core task
// "celery:<name>" in core::task_registry, so any core executor (worker
// processes included) runs it. Inside the executor its outcome travels as
// bytes: 'S' + result JSON, or 'F' + three wire strings (exception type,
// module, message).
//
//   celery::register_task("bench_tasks.add", add);                        // at start
//   auto r = co_await core::async_call(ex, celery::core_task_name(m.task),
//                                      celery::encode_call(m.args_json, m.kwargs_json));
//   celery::outcome out = celery::decode_outcome(r.value());             // -> a result meta
//
// Thread safety: register_task() before executors start (it feeds the core
// registry, which worker processes copy when they fork); the rest from any
// thread.

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace scalekit::taskqueue::celery {

/// Thrown by a task to fail with a given Python exception (the client raises
/// that class): task_exception("ValueError", "builtins", "bad row").
struct task_exception : std::runtime_error {
  task_exception(std::string type, std::string module, const std::string& message)
      : std::runtime_error(message), exc_type(std::move(type)), exc_module(std::move(module)) {}
  std::string exc_type, exc_module;
};

/// args_json (a JSON array) and kwargs_json (a JSON object) in, the result as
/// JSON text out. Any other std::exception fails the task as builtins.RuntimeError.
using task_fn = std::function<std::string(std::string_view args_json, std::string_view kwargs_json)>;

/// Register `fn` as Celery task `name` (e.g. "mandelbrot_tasks.mandelbrot_calc_row").
/// It becomes the core task core_task_name(name), so every executor (worker
/// processes included) can run it. REQUIRES: called before executors start.
/// @throws std::invalid_argument when `name` is already registered.
void register_task(const std::string& name, task_fn fn);
/// The core task that runs Celery task `name`: "celery:<name>".
std::string core_task_name(std::string_view name);
/// True when `name` was registered (a worker stores NotRegistered for the others).
bool is_registered(std::string_view name);
/// The registered names, sorted (a worker's reply to `inspect registered`).
std::vector<std::string> registered_names();

/// The payload of a core_task_name() call.
std::string encode_call(std::string_view args_json, std::string_view kwargs_json);

/// A task's outcome, decoded from the core call's bytes.
struct outcome {
  bool ok = false;
  std::string result_json;                    ///< when ok
  std::string exc_type, exc_module, message;  ///< when not
};
/// Decode the bytes a core_task_name() call returned. Undecodable bytes are a
/// builtins.RuntimeError outcome that says so, never an exception.
outcome decode_outcome(std::string_view bytes);

}  // namespace scalekit::taskqueue::celery
