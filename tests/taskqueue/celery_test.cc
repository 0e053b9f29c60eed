#include "scalekit/taskqueue/celery.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "scalekit/core/task.h"

namespace celery = scalekit::taskqueue::celery;
using json = nlohmann::json;

namespace {
// True when `s` matches `shape`, where '9' stands for a digit, 'x' for a
// lower-case hex digit and any other character for itself. (Not a regex:
// GCC 12 warns inside <regex> under the sanitizers, which stops -Werror builds.)
bool has_shape(const std::string& s, const std::string& shape) {
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i], k = shape[i];
    if (k == '9'   ? !std::isdigit(static_cast<unsigned char>(c))
        : k == 'x' ? !(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f'))
                   : c != k)
      return false;
  }
  return true;
}

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
            R"py(('a\'b', None, True))py");
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

TEST(Celery, QueueKeysFollowKombusPriorityBuckets) {
  EXPECT_EQ(celery::queue_key("celery", 0), "celery");
  EXPECT_EQ(celery::queue_key("celery", 2), "celery");
  EXPECT_EQ(celery::queue_key("celery", 5), std::string("celery\x06\x16") + "3");
  EXPECT_EQ(celery::queue_key("celery", 9), std::string("celery\x06\x16") + "9");
  EXPECT_EQ(celery::queue_keys("q").size(), 4u);
  EXPECT_EQ(celery::queue_of_key(std::string("q\x06\x16") + "6"), "q");
  EXPECT_EQ(celery::binding_member("celery"), std::string("celery\x06\x16\x06\x16") + "celery");
}

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

TEST(Celery, Base64RoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(celery::base64_decode(celery::base64_encode(s)).value(), s);
  }
  EXPECT_EQ(celery::base64_encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(celery::base64_decode("abc").ok());
}

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

TEST(Celery, PackedBytesRoundTripCompressedOrNot) {
  const std::string small = "abc", image(300000, '\x20');
  std::string noise(5000, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>(i * 2654435761u >> 13);
  for (const std::string* s : std::vector<const std::string*>{&small, &image, &noise}) {
    const auto packed = celery::pack_bytes(*s);
    EXPECT_EQ(packed.front(), '"');
    EXPECT_EQ(celery::unpack_bytes(packed).value(), *s);
  }
  EXPECT_LT(celery::pack_bytes(image).size(), image.size() / 50);  // images compress
  EXPECT_FALSE(celery::unpack_bytes("\"!!\"").ok());
  EXPECT_FALSE(celery::unpack_bytes("\"" + celery::base64_encode("zjunk") + "\"").ok());
}

TEST(Celery, Base64ByTheRfcVectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(celery::base64_encode(plain), coded);
    EXPECT_EQ(celery::base64_decode(coded).value(), plain);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37)
    EXPECT_EQ(celery::base64_decode(celery::base64_encode(all.substr(0, n))).value(), all.substr(0, n)) << n;
  for (const char* bad : {"Zm9", "Zm=v", "Z===", "Zm9v!A==", "=Zm9", "Zg=a", "Zm9v\nYg=="})
    EXPECT_FALSE(celery::base64_decode(bad).ok()) << bad;
}
