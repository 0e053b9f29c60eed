#include "scalekit/taskqueue/registry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "scalekit/core/task.h"

namespace celery = scalekit::taskqueue::celery;
using json = nlohmann::json;

TEST(Celery, RegisteredTasksRunAsCoreTasksAndReportExceptions) {
  celery::register_task("test_tasks.add", [](std::string_view args, std::string_view) {
    const auto a = json::parse(args);
    if (!a[0].is_number()) throw celery::task_exception("TypeError", "builtins", "not a number");
    return std::to_string(a[0].get<long>() + a[1].get<long>());
  });
  EXPECT_TRUE(celery::is_registered("test_tasks.add"));
  EXPECT_FALSE(celery::is_registered("test_tasks.nope"));
  scalekit::core::bytes out;
  ASSERT_TRUE(scalekit::core::run_task_inline(celery::core_task_name("test_tasks.add"),
                                              celery::encode_call("[2, 3]", "{}"), out));
  auto o = celery::decode_outcome(out);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.result_json, "5");
  ASSERT_TRUE(scalekit::core::run_task_inline(celery::core_task_name("test_tasks.add"),
                                              celery::encode_call("[\"x\", 3]", "{}"), out));
  o = celery::decode_outcome(out);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.exc_type, "TypeError");
  EXPECT_EQ(o.message, "not a number");
}

TEST(Celery, OtherExceptionsFailTheTaskAsRuntimeError) {
  celery::register_task("test_tasks.kwargs_or_throw", [](std::string_view, std::string_view kwargs) -> std::string {
    if (kwargs == "{}") throw std::out_of_range("index 9 of 3");
    return std::string(kwargs);
  });
  scalekit::core::bytes out;
  ASSERT_TRUE(scalekit::core::run_task_inline(celery::core_task_name("test_tasks.kwargs_or_throw"),
                                              celery::encode_call("[]", "{}"), out));
  auto o = celery::decode_outcome(out);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.exc_type, "RuntimeError");
  EXPECT_EQ(o.exc_module, "builtins");
  EXPECT_EQ(o.message, "index 9 of 3");
  ASSERT_TRUE(scalekit::core::run_task_inline(celery::core_task_name("test_tasks.kwargs_or_throw"),
                                              celery::encode_call("[]", R"({"k": 1})"), out));
  o = celery::decode_outcome(out);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.result_json, R"({"k": 1})");  // kwargs reach the task as sent
}

TEST(Celery, RegistryNamesAndUndecodableOutcomes) {
  EXPECT_EQ(celery::core_task_name("mandelbrot_tasks.mandelbrot_calc_row"),
            "celery:mandelbrot_tasks.mandelbrot_calc_row");
  celery::register_task("test_tasks.once", [](std::string_view, std::string_view) { return std::string("1"); });
  EXPECT_THROW(celery::register_task("test_tasks.once",
                                     [](std::string_view, std::string_view) { return std::string("2"); }),
               std::invalid_argument);
  for (const std::string& bytes : {std::string(), std::string("F"), std::string("Fxyz")}) {
    const auto o = celery::decode_outcome(bytes);
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.exc_type, "RuntimeError") << bytes;
    EXPECT_EQ(o.exc_module, "builtins");
    EXPECT_NE(o.message.find("undecodable task outcome"), std::string::npos) << o.message;
  }
  EXPECT_EQ(celery::decode_outcome("S[1, 2]").result_json, "[1, 2]");
}
