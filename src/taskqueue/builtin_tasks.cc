#include "scalekit/taskqueue/builtin_tasks.h"

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <thread>

#include "scalekit/core/task.h"
#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/packing.h"
#include "scalekit/taskqueue/registry.h"

namespace scalekit::taskqueue::celery {

namespace {

using json = nlohmann::json;

std::string run_core_task(std::string_view args_json, std::string_view) {
  const json args = json::parse(args_json);
  if (args.size() != 2 || !args[0].is_string() || !args[1].is_string())
    throw task_exception("TypeError", "builtins", "scalekit.run takes (task_name, payload_base64)");
  auto payload = base64_decode(args[1].get<std::string>());
  if (!payload.ok()) throw task_exception("ValueError", "builtins", "payload: " + payload.error().message());
  core::bytes out;
  if (!core::run_task_inline(args[0].get<std::string>(), payload.value(), out))
    throw task_exception("RuntimeError", "builtins", out);
  return pack_bytes(out);
}

std::string add(std::string_view args_json, std::string_view) {
  const json args = json::parse(args_json);
  if (args.size() != 2 || !args[0].is_number() || !args[1].is_number())
    throw task_exception("TypeError", "builtins", "add takes two numbers");
  if (args[0].is_number_integer() && args[1].is_number_integer())
    return std::to_string(args[0].get<std::int64_t>() + args[1].get<std::int64_t>());
  return json(args[0].get<double>() + args[1].get<double>()).dump();
}

std::string sleep_task(std::string_view args_json, std::string_view) {
  const json args = json::parse(args_json);
  if (args.size() != 1 || !args[0].is_number()) throw task_exception("TypeError", "builtins", "sleep takes (seconds)");
  const double s = args[0].get<double>();
  if (s < 0 || s > 3600) throw task_exception("ValueError", "builtins", "sleep: seconds must be in [0, 3600]");
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
  return args[0].dump();
}

}  // namespace

void register_builtin_tasks() {
  register_task("scalekit.sleep", sleep_task);
  register_task(run_task_name, run_core_task);
  register_task("bench_tasks.add", add);
}

}  // namespace scalekit::taskqueue::celery
