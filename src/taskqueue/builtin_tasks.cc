#include "scalekit/taskqueue/builtin_tasks.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "scalekit/core/task.h"
#include "scalekit/taskqueue/arguments.h"
#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/json_text.h"
#include "scalekit/taskqueue/packing.h"
#include "scalekit/taskqueue/registry.h"

namespace scalekit::taskqueue::celery {

namespace {

std::string run_core_task(std::string_view args_json, std::string_view kwargs_json) {
  static const parameter params[] = {{"task_name"}, {"payload"}};
  const auto v = bind_arguments("run", params, args_json, kwargs_json);
  const auto name = json_text::string_value(v[0]), payload_b64 = json_text::string_value(v[1]);
  if (!name || !payload_b64)
    throw task_exception("TypeError", "builtins", "scalekit.run takes (task_name, payload_base64), two strings");
  auto payload = base64_decode(*payload_b64);
  if (!payload.ok()) throw task_exception("ValueError", "builtins", "payload: " + payload.error().message());
  core::bytes out;
  if (!core::run_task_inline(*name, payload.value(), out)) throw task_exception("RuntimeError", "builtins", out);
  return pack_bytes(out);
}

// Python's x + y: integers of any size exactly, floats, strings and lists.
std::string add(std::string_view args_json, std::string_view kwargs_json) {
  static const parameter params[] = {{"x"}, {"y"}};
  const auto v = bind_arguments("add", params, args_json, kwargs_json);
  return python_add(v[0], v[1]);
}

// Python's sum(numbers): 0 + numbers[0] + numbers[1] + ..., exact for integers.
std::string tsum(std::string_view args_json, std::string_view kwargs_json) {
  static const parameter params[] = {{"numbers"}};
  const auto v = bind_arguments("tsum", params, args_json, kwargs_json);
  const std::string_view type = python_type(v[0]);
  if (type != "list")
    throw task_exception("TypeError", "builtins", "'" + std::string(type) + "' object is not iterable");
  std::string total = "0";
  const std::vector<std::string_view> items = json_text::elements(v[0]).value();
  for (std::string_view item : items) total = python_add(total, item);
  return total;
}

std::string sleep_task(std::string_view args_json, std::string_view kwargs_json) {
  static const parameter params[] = {{"seconds"}};
  const auto v = bind_arguments("sleep", params, args_json, kwargs_json);
  const std::string_view type = python_type(v[0]);
  if (type != "int" && type != "float")
    throw task_exception("TypeError", "builtins", "sleep: seconds must be a number, not " + std::string(type));
  const double s = std::strtod(std::string(v[0]).c_str(), nullptr);
  if (!(s >= 0 && s <= 3600)) throw task_exception("ValueError", "builtins", "sleep: seconds must be in [0, 3600]");
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
  return std::string(v[0]);
}

}  // namespace

void register_builtin_tasks() {
  register_task("scalekit.sleep", sleep_task);
  register_task(run_task_name, run_core_task);
  register_task("bench_tasks.add", add);
  register_task("bench_tasks.tsum", tsum);
}

}  // namespace scalekit::taskqueue::celery
