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

TEST(Celery, MetasAreWrittenKeyByKeyAsPythonsJsonDumps) {
  const std::string meta = celery::failure_meta("t-9", "KeyError", "builtins", "no \"x\"", "", "g-9");
  const std::string date = json::parse(meta)["date_done"];
  EXPECT_EQ(meta, R"({"status": "FAILURE", "result": {"exc_type": "KeyError", "exc_message": ["no \"x\""], )"
                  R"("exc_module": "builtins"}, "traceback": null, "children": [], "date_done": ")" +
                      date + R"(", "group_id": "g-9", "task_id": "t-9"})");
}

TEST(Celery, MetaParseOfAPythonWorkersFailure) {
  // As Celery 5.2's worker stores a ZeroDivisionError.
  const std::string python =
      R"({"status": "FAILURE", "result": {"exc_type": "ZeroDivisionError", "exc_message": ["division by zero"], )"
      R"("exc_module": "builtins"}, "traceback": "Traceback (most recent call last):\n  File \"tasks.py\", line 5, )"
      R"(in div\n    return x / y\nZeroDivisionError: division by zero\n", "children": [], )"
      R"("date_done": "2026-11-22T09:22:27.123456", "task_id": "0b9f4a3e-8f3c-4d0e-9d7c-2a8b5e6f7a81"})";
  auto s = celery::parse_meta(python);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->status, "FAILURE");
  EXPECT_TRUE(s->ready());
  EXPECT_EQ(s->exc_type, "ZeroDivisionError");
  EXPECT_EQ(s->exc_message, "division by zero");
  EXPECT_EQ(json::parse(s->result_json)["exc_module"], "builtins");

  // An exception whose first argument is not a string keeps its JSON; older
  // workers wrote the message as a bare string.
  s = celery::parse_meta(R"({"status": "FAILURE", "result": {"exc_type": "E", "exc_message": [42, "x"]}})");
  EXPECT_EQ(s->exc_message, "42");
  s = celery::parse_meta(R"({"status": "FAILURE", "result": {"exc_type": "E", "exc_message": "bare"}})");
  EXPECT_EQ(s->exc_message, "bare");
  s = celery::parse_meta(R"({"status": "FAILURE", "result": {"exc_type": "E", "exc_message": []}})");
  EXPECT_EQ(s->exc_message, "[]");
}

TEST(Celery, MetaParseOfOtherStates) {
  const auto revoked = celery::parse_meta(celery::revoked_meta("t-4", "expired", ""));
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->status, "REVOKED");
  EXPECT_TRUE(revoked->ready());
  EXPECT_EQ(json::parse(revoked->result_json),
            json::parse(R"({"exc_type": "TaskRevokedError", "exc_message": ["expired"],
                            "exc_module": "celery.exceptions"})"));
  const auto started = celery::parse_meta(R"({"status": "STARTED", "result": {"pid": 7}})");
  ASSERT_TRUE(started.ok());
  EXPECT_FALSE(started->ready());
  EXPECT_EQ(started->exc_type, "");  // only a FAILURE names an exception
  const auto no_result = celery::parse_meta(R"({"status": "PENDING"})");
  ASSERT_TRUE(no_result.ok());
  EXPECT_EQ(no_result->result_json, "");
  EXPECT_FALSE(celery::parse_meta("[1]").ok());                            // not an object
  EXPECT_FALSE(celery::parse_meta(R"({"result": 1})").ok());               // no status
  EXPECT_FALSE(celery::parse_meta(R"({"status": 3, "result": 1})").ok());  // a status that is not a string
}
