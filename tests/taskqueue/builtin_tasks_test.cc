#include "scalekit/taskqueue/builtin_tasks.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "scalekit/core/task.h"
#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/packing.h"
#include "scalekit/taskqueue/registry.h"

namespace celery = scalekit::taskqueue::celery;
namespace core = scalekit::core;
using json = nlohmann::json;

namespace {

// The built-in tasks, and a core task for scalekit.run to run, registered
// once per process (a name registers only once).
void register_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    celery::register_builtin_tasks();
    core::task_registry::global().add("test_builtin.reverse", [](std::string_view payload) {
      return core::bytes(payload.rbegin(), payload.rend());
    });
  });
}

// Run Celery task `name` as a worker does; its outcome.
celery::outcome call(const std::string& name, const std::string& args_json, const std::string& kwargs_json = "{}") {
  register_once();
  core::bytes out;
  EXPECT_TRUE(core::run_task_inline(celery::core_task_name(name), celery::encode_call(args_json, kwargs_json), out))
      << out;
  return celery::decode_outcome(out);
}

}  // namespace

TEST(Celery, ScalekitRunRunsACoreTaskAndPacksItsOutput) {
  const auto o =
      call(celery::run_task_name, json::array({"test_builtin.reverse", celery::base64_encode("abc")}).dump());
  ASSERT_TRUE(o.ok) << o.exc_type << ": " << o.message;
  EXPECT_EQ(celery::unpack_bytes(o.result_json).value(), "cba");
  EXPECT_EQ(call(celery::run_task_name, R"(["test_builtin.reverse"])").exc_type, "TypeError");
  EXPECT_EQ(call(celery::run_task_name, R"(["test_builtin.reverse", "!!"])").exc_type, "ValueError");
  const auto unknown = call(celery::run_task_name, R"(["test_builtin.nope", ""])");
  EXPECT_EQ(unknown.exc_type, "RuntimeError");
  EXPECT_NE(unknown.message.find("test_builtin.nope"), std::string::npos) << unknown.message;
}

TEST(Celery, BenchAddAndSleepAnswerAsPythonWould) {
  EXPECT_EQ(call("bench_tasks.add", "[2, 3]").result_json, "5");
  EXPECT_EQ(json::parse(call("bench_tasks.add", "[1.5, 2]").result_json), 3.5);
  EXPECT_EQ(call("bench_tasks.add", R"(["a", 2])").exc_type, "TypeError");
  // Python's integers have no size limit, and neither does add.
  EXPECT_EQ(call("bench_tasks.add", "[9223372036854775807, 1]").result_json, "9223372036854775808");
  EXPECT_EQ(call("bench_tasks.add", "[]", R"({"x": 4, "y": 5})").result_json, "9");
  EXPECT_EQ(call("bench_tasks.add", "[4]", R"({"y": 5})").result_json, "9");
  const auto unknown = call("bench_tasks.add", "[1, 2]", R"({"z": 3})");
  EXPECT_EQ(unknown.exc_type, "TypeError");
  EXPECT_EQ(unknown.message, "add() got an unexpected keyword argument 'z'");
  EXPECT_EQ(call("bench_tasks.add", "[1]").message, "add() missing 1 required positional argument: 'y'");
  EXPECT_EQ(call("scalekit.sleep", "[]", R"({"seconds": 0})").result_json, "0");
  EXPECT_EQ(call("scalekit.sleep", "[0]").result_json, "0");
  EXPECT_EQ(call("scalekit.sleep", "[-1]").exc_type, "ValueError");
  EXPECT_EQ(call("scalekit.sleep", "[]").exc_type, "TypeError");
  EXPECT_TRUE(celery::is_registered("scalekit.run"));
}
