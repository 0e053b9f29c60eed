#include "scalekit/taskqueue/result_meta.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "shape.h"

namespace celery = scalekit::taskqueue::celery;
using json = nlohmann::json;
using scalekit::testing::has_shape;

TEST(Celery, ResultMetasInCelerysShape) {
  const auto ok = celery::success_meta("t-1", R"({"0": [32, 16, 8]})", "g-1");
  const auto j = json::parse(ok);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(j["status"], "SUCCESS");
  EXPECT_EQ(j["result"], json::parse(R"({"0": [32, 16, 8]})"));
  EXPECT_TRUE(j["traceback"].is_null());
  EXPECT_EQ(j["children"], json::array());
  EXPECT_EQ(j["group_id"], "g-1");
  EXPECT_EQ(j["task_id"], "t-1");
  EXPECT_TRUE(has_shape(j["date_done"].get<std::string>(), "9999-99-99T99:99:99.999999")) << j["date_done"];
  EXPECT_EQ(ok.find("\"status\""), 1u);  // status first, as Celery writes it
  EXPECT_LT(ok.find("\"date_done\""), ok.find("\"task_id\""));
  EXPECT_FALSE(json::parse(celery::success_meta("t-2", "1", "")).contains("group_id"));  // left out when empty

  const auto bad = json::parse(celery::failure_meta("t-3", "ValueError", "builtins", "boom", "Traceback...", ""));
  EXPECT_EQ(bad["status"], "FAILURE");
  EXPECT_EQ(bad["result"],
            json::parse(R"({"exc_type": "ValueError", "exc_message": ["boom"], "exc_module": "builtins"})"));
  auto state = celery::parse_meta(bad.dump());
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->ready());
  EXPECT_EQ(state->exc_type, "ValueError");
  EXPECT_EQ(state->exc_message, "boom");
  EXPECT_EQ(celery::parse_meta(ok)->result_json, R"({"0":[32,16,8]})");
  EXPECT_FALSE(celery::parse_meta("{").ok());
}
