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
