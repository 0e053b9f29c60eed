#include "scalekit/taskqueue/json_text.h"

#include <gtest/gtest.h>

#include <string>

namespace jt = scalekit::taskqueue::json_text;

TEST(JsonText, SplitsArraysKeepingNumbersAsWritten) {
  const auto e = jt::elements(R"( [12345678901234567890123456789, -1.50e3, "a\"b", [1, [2]], {"k": null}, true] )");
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  ASSERT_EQ(e->size(), 6u);
  EXPECT_EQ((*e)[0], "12345678901234567890123456789");
  EXPECT_EQ((*e)[1], "-1.50e3");
  EXPECT_EQ((*e)[2], R"("a\"b")");
  EXPECT_EQ((*e)[3], "[1, [2]]");
  EXPECT_EQ((*e)[4], R"({"k": null})");
  EXPECT_EQ(jt::kind_of((*e)[5]), jt::kind::boolean);
  EXPECT_TRUE(jt::elements("[]")->empty());
  EXPECT_TRUE(jt::elements(" [ ] ")->empty());
}

TEST(JsonText, SplitsObjectsWithDecodedKeys) {
  const auto m = jt::members(R"({"a": 1, "b\u00e9": [true, false], "a": "last"})");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[1].key, "b\xc3\xa9");
  EXPECT_EQ((*m)[1].value, "[true, false]");
  EXPECT_EQ(jt::find(*m, "a"), R"("last")");  // Python's dict keeps the last
  EXPECT_FALSE(jt::find(*m, "z").has_value());
  EXPECT_TRUE(jt::members("{}")->empty());
}

TEST(JsonText, RefusesWhatIsNotJson) {
  for (const char* bad :
       {"",      "[",     "[1,]",       "[1 2]",      "{\"a\" 1}",  "{\"a\": 1,}", "{1: 2}",        "[01]",
        "[1.]",  "[.5]",  "[-]",        "[1e]",       "[\"a]",      "[\"\\x\"]",   "[\"\\u12g4\"]", "[tru]",
        "[nul]", "[1] x", "[\"\x01\"]", "[\"\xff\"]", "[\"\xc3\"]", "{\"a\": }"})
    EXPECT_FALSE(jt::validate(bad).ok()) << bad;
  for (const char* good : {"1", " [ ] ", "[NaN, Infinity, -Infinity]", "{\"a\": {\"b\": []}}", "\"\xc3\xa9\"",
                           "[-0, 0.5e-3, 1E+2]", "\"\\ud83d\\ude00\""})
    EXPECT_TRUE(jt::validate(good).ok()) << good;
  EXPECT_FALSE(jt::elements("{}").ok());
  EXPECT_FALSE(jt::members("[]").ok());
  EXPECT_NE(jt::validate("[1, 2, x]").message().find("byte 7"), std::string::npos)
      << jt::validate("[1, 2, x]").message();
}

TEST(JsonText, DeepNestingIsRefusedWithoutRecursing) {
  const std::string ok = std::string(jt::max_depth, '[') + std::string(jt::max_depth, ']');
  EXPECT_TRUE(jt::validate(ok).ok());
  const std::string deep(1000000, '[');  // would overflow a recursive parser's stack
  EXPECT_NE(jt::validate(deep).message().find("nested too deeply"), std::string::npos);
}

TEST(JsonText, DecodesAndQuotesStrings) {
  EXPECT_EQ(jt::string_value(R"("a\n\"\\\/\u0041\ud83d\ude00")"), "a\n\"\\/A\xf0\x9f\x98\x80");
  EXPECT_FALSE(jt::string_value("12").has_value());
  EXPECT_EQ(jt::quote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(jt::string_value(jt::quote("round \t trip \x1f")), "round \t trip \x1f");
}

TEST(JsonText, RespacesAsPythonAndMinifies) {
  const char* v = "{ \"a\" :[1 ,2, \"x, y: z\"],\"b\":{}}";
  EXPECT_EQ(jt::minify(v), R"({"a":[1,2,"x, y: z"],"b":{}})");
  EXPECT_EQ(jt::python_dumps(v), R"({"a": [1, 2, "x, y: z"], "b": {}})");
}

TEST(JsonText, ReprIsPythons) {
  EXPECT_EQ(jt::py_repr(R"({"a": [1, null, true, false, 2.50, "it's"], "b": "q\"q"})"),
            R"({'a': [1, None, True, False, 2.5, "it's"], 'b': 'q"q'})");
  EXPECT_EQ(jt::py_repr("123456789012345678901234567890"), "123456789012345678901234567890");
  EXPECT_EQ(jt::py_repr("[NaN, -Infinity, 1e2]"), "[nan, -inf, 100.0]");
  EXPECT_EQ(jt::py_str_repr("both ' and \""), R"('both \' and "')");
}

TEST(JsonText, FloatsAreWrittenAsPythonWritesThem) {
  EXPECT_EQ(jt::py_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(jt::py_float_repr(5.0), "5.0");
  EXPECT_EQ(jt::py_float_repr(1e16), "1e+16");
  EXPECT_EQ(jt::py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(jt::py_float_repr(1e-5), "1e-05");
  EXPECT_EQ(jt::py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(jt::py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(jt::py_float_repr(1.5e300), "1.5e+300");
  EXPECT_EQ(jt::py_float_repr(123456.789), "123456.789");
}

TEST(JsonText, IntegersOfAnySize) {
  EXPECT_TRUE(jt::is_integer("-123456789012345678901234567890"));
  EXPECT_FALSE(jt::is_integer("1.0"));
  EXPECT_FALSE(jt::is_integer("-"));
  EXPECT_FALSE(jt::is_integer("1e3"));
}
