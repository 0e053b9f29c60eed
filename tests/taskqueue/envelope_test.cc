#include "scalekit/taskqueue/envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/ids.h"
#include "shape.h"

namespace celery = scalekit::taskqueue::celery;
using json = nlohmann::json;
using scalekit::testing::has_shape;

namespace {
// The message captured from Celery 5.2.6 in the protocol spec, verbatim.
const std::string captured =
    R"json({"body": "W1swLCA0LCAzLCAxMDAwXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkIjogbnVsbH1d", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"lang": "py", "task": "mandelbrot_tasks.mandelbrot_calc_row", "id": "4c129d8f-b3df-4941-8186-717672cea253", "shadow": null, "eta": null, "expires": null, "group": "d5ad8000-b388-4fdc-99a5-b9a9a2e4a34d", "group_index": null, "retries": 0, "timelimit": [null, null], "root_id": "4c129d8f-b3df-4941-8186-717672cea253", "parent_id": null, "argsrepr": "(0, 4, 3, 1000)", "kwargsrepr": "{}", "origin": "gen8787@vm", "ignore_result": false}, "properties": {"correlation_id": "4c129d8f-b3df-4941-8186-717672cea253", "reply_to": "fc8beae9-4ad4-3354-91c1-5805ca24f36b", "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "639ae518-012e-4627-98ec-37c88d98dfd1"}})json";
}  // namespace

TEST(Celery, ParsesTheCapturedMessage) {
  auto m = celery::parse_envelope(captured);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->task, "mandelbrot_tasks.mandelbrot_calc_row");
  EXPECT_EQ(m->id, "4c129d8f-b3df-4941-8186-717672cea253");
  EXPECT_EQ(m->group, "d5ad8000-b388-4fdc-99a5-b9a9a2e4a34d");
  EXPECT_EQ(m->delivery_tag, "639ae518-012e-4627-98ec-37c88d98dfd1");
  EXPECT_EQ(m->routing_key, "celery");
  EXPECT_EQ(json::parse(m->args_json), json::parse("[0, 4, 3, 1000]"));
  EXPECT_EQ(m->kwargs_json, "{}");
  EXPECT_FALSE(m->eta.has_value());
  EXPECT_FALSE(m->redelivered);
}

TEST(Celery, OurEnvelopeCarriesWhatCeleryWrites) {
  std::string id;
  celery::publish_options o;
  o.group = "g-1";
  const auto env = celery::make_envelope("mandelbrot_tasks.mandelbrot_calc_row", "[0, 4, 3, 1000]", "{}", o, &id);
  const auto j = json::parse(env);
  EXPECT_TRUE(has_shape(id, "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx")) << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // the RFC 4122 variant
  const auto& h = j["headers"];
  for (const char* key : {"lang", "task", "id", "shadow", "eta", "expires", "group", "group_index", "retries",
                          "timelimit", "root_id", "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result"})
    EXPECT_TRUE(h.contains(key)) << key;
  EXPECT_EQ(h["argsrepr"], "(0, 4, 3, 1000)");
  EXPECT_EQ(h["kwargsrepr"], "{}");
  EXPECT_EQ(h["group"], "g-1");
  EXPECT_EQ(h["root_id"], id);
  const auto& p = j["properties"];
  EXPECT_EQ(p["correlation_id"], id);
  EXPECT_EQ(p["delivery_info"]["routing_key"], "celery");
  EXPECT_EQ(p["body_encoding"], "base64");
  EXPECT_NE(p["delivery_tag"], id);
  EXPECT_EQ(celery::base64_decode(j["body"].get<std::string>()).value(),
            R"([[0,4,3,1000], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}])");
  auto back = celery::parse_envelope(env);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->id, id);
  EXPECT_TRUE(back->published.has_value());
  EXPECT_EQ(json::parse(
                celery::make_envelope("t", R"(["a'b", null, true])", R"({"k": [1]})", {}))["headers"]["argsrepr"],
            R"py(("a'b", None, True))py");
  EXPECT_THROW(celery::make_envelope("t", "{}", "{}", {}), std::invalid_argument);
}

TEST(Celery, BadMessagesSayWhatIsWrongAndKeepTheIdWhenTheyCan) {
  std::string id;
  EXPECT_FALSE(celery::parse_envelope("not json", &id).ok());
  EXPECT_EQ(id, "");
  auto j = json::parse(captured);
  j["headers"].erase("task");
  auto r = celery::parse_envelope(j.dump(), &id);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no task name"), std::string::npos);
  EXPECT_EQ(id, "4c129d8f-b3df-4941-8186-717672cea253");
  j = json::parse(captured);
  j["body"] = "!!!!";
  EXPECT_NE(celery::parse_envelope(j.dump()).error().message().find("body"), std::string::npos);
  j = json::parse(captured);
  j["content-type"] = "application/x-python-serialize";
  EXPECT_NE(celery::parse_envelope(j.dump()).error().message().find("only application/json"), std::string::npos);
  j = json::parse(captured);
  j["body"] = celery::base64_encode("{\"a\": 1}");
  EXPECT_NE(celery::parse_envelope(j.dump()).error().message().find("[args, kwargs, embed]"), std::string::npos);
}

TEST(Celery, RedeliveryMarksAndUnackedEntries) {
  const auto marked = json::parse(celery::mark_redelivered(captured));
  EXPECT_EQ(marked["headers"]["redelivered"], true);
  EXPECT_EQ(marked["properties"]["delivery_info"]["redelivered"], true);
  EXPECT_EQ(marked["properties"]["delivery_tag"], "639ae518-012e-4627-98ec-37c88d98dfd1");  // otherwise unchanged
  EXPECT_TRUE(celery::parse_envelope(marked.dump())->redelivered);
  const auto entry = celery::unacked_entry(captured, "", "celery");
  const auto e = json::parse(entry);
  EXPECT_EQ(e[1], "");
  EXPECT_EQ(e[2], "celery");
  EXPECT_EQ(json::parse(celery::envelope_of_unacked(entry).value()), json::parse(captured));
}

TEST(Celery, EnvelopeRoundTripsEveryFieldItWasGiven) {
  celery::publish_options o;
  o.queue = "images";
  o.id = "fixed-task-id";
  o.group = "g-7";
  o.priority = 6;
  o.ignore_result = true;
  std::string id;
  const double before = celery::unix_now();
  const auto env = celery::make_envelope("jobs.thumb", R"([1, "é\"x", [2.5, null]])", R"({"size": {"w": 64}})", o, &id);
  EXPECT_EQ(id, "fixed-task-id");
  auto m = celery::parse_envelope(env);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->task, "jobs.thumb");
  EXPECT_EQ(m->id, "fixed-task-id");
  EXPECT_EQ(m->root_id, "fixed-task-id");
  EXPECT_EQ(m->parent_id, "");
  EXPECT_EQ(m->group, "g-7");
  EXPECT_EQ(m->args_json, R"([1,"é\"x",[2.5,null]])");  // minified, otherwise the same JSON
  EXPECT_EQ(m->kwargs_json, R"({"size":{"w":64}})");
  EXPECT_EQ(m->routing_key, "images");
  EXPECT_EQ(m->exchange, "");
  EXPECT_EQ(m->priority, 6);
  EXPECT_EQ(m->retries, 0);
  EXPECT_TRUE(m->ignore_result);
  EXPECT_FALSE(m->redelivered);
  EXPECT_FALSE(m->eta.has_value());
  EXPECT_FALSE(m->expires.has_value());
  ASSERT_TRUE(m->published.has_value());
  EXPECT_GE(*m->published, before);
  EXPECT_LT(*m->published, before + 5);
  EXPECT_FALSE(m->delivery_tag.empty());
  EXPECT_NE(m->delivery_tag, m->id);
  EXPECT_NE(celery::parse_envelope(celery::make_envelope("t", "[]", "{}", o))->delivery_tag,
            m->delivery_tag);  // a new tag for every envelope, even of the same task id
}

TEST(Celery, EtaAndExpiresReadAsUnixTimesWhateverTheirZone) {
  auto j = json::parse(captured);
  j["headers"]["eta"] = "2026-11-22T09:22:26.402555+00:00";
  j["headers"]["expires"] = "2026-11-22T10:22:26Z";
  auto m = celery::parse_envelope(j.dump());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(*m->eta, 1795339346.402555, 1e-5);
  EXPECT_DOUBLE_EQ(*m->expires, 1795342946.0);
  j["headers"]["eta"] = "2026-11-22T09:22:26+01:00";  // an hour ahead of UTC: an hour earlier
  j["headers"]["expires"] = "2026-11-22T10:22:26";    // naive: UTC
  m = celery::parse_envelope(j.dump());
  EXPECT_DOUBLE_EQ(*m->eta, 1795335746.0);
  EXPECT_DOUBLE_EQ(*m->expires, 1795342946.0);
  j["headers"]["eta"] = "soon";
  EXPECT_FALSE(celery::parse_envelope(j.dump())->eta.has_value());  // unreadable: as if absent
}

TEST(Celery, UnackedEntriesAndMarksRefuseWhatIsNotAnEnvelope) {
  EXPECT_EQ(celery::mark_redelivered("not json"), "not json");  // unchanged
  EXPECT_FALSE(celery::envelope_of_unacked("not json").ok());
  EXPECT_FALSE(celery::envelope_of_unacked("[]").ok());
  EXPECT_FALSE(celery::envelope_of_unacked(R"(["a string", "", "celery"])").ok());
  EXPECT_FALSE(celery::envelope_of_unacked(R"({"body": ""})").ok());
  const auto entry = json::parse(celery::unacked_entry(captured, "ex\"change", "route"));
  EXPECT_EQ(entry[1], "ex\"change");  // quoted as JSON strings
  EXPECT_EQ(entry[2], "route");
}

// Python's integers have no size limit: a body holding 2**100 is read, and
// written, digit for digit.
TEST(Celery, BigIntegersCrossTheEnvelopeExactly) {
  const std::string big = "1267650600228229401496703205376";
  const auto env = celery::make_envelope("bench_tasks.add", "[" + big + ", -" + big + "]", R"({"z": 1e400})", {});
  EXPECT_EQ(json::parse(env)["headers"]["argsrepr"], "(" + big + ", -" + big + ")");
  auto m = celery::parse_envelope(env);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->args_json, "[" + big + ",-" + big + "]");
  EXPECT_EQ(m->kwargs_json, R"({"z":1e400})");
}

// Celery caps argsrepr at 1024 characters: a large payload does not travel twice.
TEST(Celery, ArgsReprIsCapped) {
  const std::string payload(100000, 'x');
  const auto env = celery::make_envelope("scalekit.run", R"(["t", ")" + payload + R"("])", "{}", {});
  const std::string repr = json::parse(env)["headers"]["argsrepr"];
  EXPECT_EQ(repr.size(), 1024u);
  EXPECT_EQ(repr.substr(repr.size() - 3), "...");
  EXPECT_LT(env.size(), payload.size() * 1.4 + 2000);  // the payload once, in base64
}
