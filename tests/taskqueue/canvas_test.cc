#include "scalekit/taskqueue/canvas.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/keys.h"

namespace celery = scalekit::taskqueue::celery;
using json = nlohmann::json;

namespace {

// A signature as Celery 5.2 serialises one.
std::string task_sig(const std::string& args, const std::string& options = "{}", bool immutable = false) {
  return R"({"task": "bench_tasks.add", "args": )" + args + R"(, "kwargs": {}, "options": )" + options +
         R"(, "subtask_type": null, "immutable": )" + (immutable ? "true" : "false") + "}";
}

celery::task_message parsed(const celery::outgoing_message& m) {
  auto r = celery::parse_envelope(m.envelope);
  EXPECT_TRUE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST(Canvas, ATaskGetsThePartialArgumentsFirstAndItsParent) {
  celery::canvas_effects out;
  celery::apply_options o;
  o.set_string("parent_id", "p-1").set_string("root_id", "r-1");
  celery::apply_signature(task_sig("[10]", R"({"task_id": "t-1"})"), {"3"}, o, out);
  ASSERT_EQ(out.messages.size(), 1u);
  const auto m = parsed(out.messages[0]);
  EXPECT_EQ(m.id, "t-1");
  EXPECT_EQ(json::parse(m.args_json), json::parse("[3, 10]"));
  EXPECT_EQ(m.parent_id, "p-1");
  EXPECT_EQ(m.root_id, "r-1");
  EXPECT_EQ(out.messages[0].list_key, "celery");
  EXPECT_EQ(out.children_json(), R"([[["t-1", null], null]])");
}

TEST(Canvas, AnImmutableSignatureKeepsItsOwnArguments) {
  celery::canvas_effects out;
  celery::apply_signature(task_sig("[5, 5]", "{}", true), {"3"}, {}, out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(json::parse(parsed(out.messages[0]).args_json), json::parse("[5, 5]"));
}

TEST(Canvas, AChainPublishesItsFirstTaskWithTheRestReversed) {
  const std::string chain = R"({"task": "celery.chain", "args": [], "kwargs": {"tasks": [)" + task_sig("[1, 2]") +
                            ", " + task_sig("[10]", R"({"task_id": "b"})") + ", " +
                            task_sig("[100]", R"({"task_id": "c"})") +
                            R"(]}, "options": {}, "subtask_type": "chain", "immutable": false})";
  celery::canvas_effects out;
  celery::apply_signature(chain, {}, {}, out);
  ASSERT_EQ(out.messages.size(), 1u);
  const auto m = parsed(out.messages[0]);
  EXPECT_EQ(json::parse(m.args_json), json::parse("[1, 2]"));
  const auto rest = json::parse(m.chain);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0]["options"]["task_id"], "c");  // popped from the end: the next task is last
  EXPECT_EQ(rest[1]["options"]["task_id"], "b");
}

TEST(Canvas, AChordSetsItsSizeAndGivesEachHeaderTaskTheBody) {
  const std::string chord = R"({"task": "celery.chord", "args": [], "kwargs": {"header": [)" + task_sig("[1, 1]") +
                            ", " + task_sig("[2, 2]") + R"(], "body": )" + task_sig("[]", R"({"task_id": "body"})") +
                            R"(}, "options": {}, "subtask_type": "chord", "immutable": false})";
  celery::canvas_effects out;
  celery::apply_signature(chord, {}, {}, out);
  ASSERT_EQ(out.chord_sizes.size(), 1u);
  EXPECT_EQ(out.chord_sizes[0].second, "2");
  ASSERT_EQ(out.messages.size(), 2u);
  const auto a = parsed(out.messages[0]), b = parsed(out.messages[1]);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(out.chord_sizes[0].first, celery::chord_key(a.group, "s"));
  EXPECT_EQ(a.group_index, "0");
  EXPECT_EQ(b.group_index, "1");
  EXPECT_EQ(json::parse(a.chord)["options"]["task_id"], "body");
}

TEST(Canvas, NotASignatureIsRefused) {
  celery::canvas_effects out;
  EXPECT_THROW(celery::apply_signature("[1, 2]", {}, {}, out), std::invalid_argument);
  EXPECT_THROW(celery::apply_signature(R"({"args": []})", {}, {}, out), std::invalid_argument);
  EXPECT_THROW(celery::signature_list("42"), std::invalid_argument);
  EXPECT_TRUE(out.messages.empty());
}
