// Measurements from CSV and JSON: the accepted variants, and errors that name
// the line.

#include "scalekit/scale/input.h"

#include <gtest/gtest.h>

#include <string>

namespace sc = scalekit::scale;

namespace {

std::string error_of(std::string_view text) {
  auto r = sc::parse_measurements(text, "m.csv");
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code(), scalekit::status_code::invalid_argument);
  return r.error().message();
}

}  // namespace

TEST(Input, CsvWithCommentsAndAliases) {
  auto r =
      sc::parse_measurements("# a comment\n\nconcurrency,throughput\n1,100\n  # indented comment\n2,190.5\n", "m.csv");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].n, 1);
  EXPECT_EQ((*r)[0].x, 100);
  EXPECT_EQ((*r)[0].line, 4);
  EXPECT_EQ((*r)[1].x, 190.5);
  EXPECT_EQ((*r)[1].line, 6);
}

TEST(Input, CsvColumnsInAnyOrderWithOthers) {
  // Quoted, upper-case headers, the columns swapped, an extra column, CRLF.
  auto r = sc::parse_measurements("\"Rate\", host ,\"N\"\r\n1.5e3,a,1\r\n2.9e3,b,2\r\n", "m.csv");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].n, 2);
  EXPECT_EQ((*r)[1].x, 2900);
  for (const char* header : {"n,x", "N,X", "workers,rate", "concurrency,throughput", "load,throughput"}) {
    auto v = sc::parse_measurements(std::string(header) + "\n3,7\n", "m.csv");
    ASSERT_TRUE(v.ok()) << header;
    EXPECT_EQ((*v)[0].n, 3) << header;
  }
}

TEST(Input, Json) {
  auto r = sc::parse_measurements(
      "[\n  {\"concurrency\": 1, \"throughput\": 100},\n  {\"n\": 2, \"x\": 180, \"note\": \"{[\"},\n"
      "  {\"workers\": 4, \"rate\": 300.5}\n]\n",
      "m.json");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].n, 4);
  EXPECT_EQ((*r)[2].x, 300.5);
  EXPECT_EQ((*r)[0].line, 2);
  EXPECT_EQ((*r)[2].line, 4);  // the string "{[" did not count as an element
}

TEST(Input, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("n,x\n1,10\n2,abc\n"), "m.csv:3: throughput 'abc' is not a number");
  EXPECT_EQ(error_of("n,x\n1,10\n\n# c\n2,-5\n"), "m.csv:5: throughput must not be negative");
  EXPECT_EQ(error_of("n,x\n0,10\n"), "m.csv:2: concurrency must be at least 1");
  EXPECT_EQ(error_of("n,x\n1,10\n2\n"), "m.csv:3: expected 2 columns, got 1");
  EXPECT_EQ(error_of("n,x\n1,nan\n"), "m.csv:2: throughput 'nan' is not a number");
  EXPECT_NE(error_of("# only\nthreads,ops\n1,2\n").find("m.csv:2: the header must name"), std::string::npos);
  EXPECT_EQ(error_of("n,x\n# nothing\n"), "m.csv:3: no measurements");
  EXPECT_EQ(error_of(""), "m.csv:1: no header and no data");
}

TEST(Input, JsonErrorsNameTheLine) {
  EXPECT_EQ(error_of("[\n{\"n\": 1, \"x\": 1},\n{\"n\": 2, \"x\": \"fast\"}\n]"),
            "m.csv:3: throughput is not a number");
  EXPECT_EQ(error_of("[\n{\"n\": 1, \"x\": 1},\n\n{\"n\": 0.5, \"x\": 2}]"), "m.csv:4: concurrency must be at least 1");
  EXPECT_EQ(error_of("[\n{\"n\": 1, \"x\": 1},\n{\"n\": 2, \"x\": 1,}\n]"), "m.csv:3: not valid JSON");
  EXPECT_NE(error_of("[{\"n\": 1}]").find("m.csv:1: each object needs"), std::string::npos);
  EXPECT_EQ(error_of("[1, 2]"), "m.csv:1: element 1 is not an object");
}

TEST(Input, UnreadableInputsAreRefused) {
  auto missing = sc::read_measurements("/nonexistent/m.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), scalekit::status_code::not_found);
  EXPECT_NE(missing.error().message().find("/nonexistent/m.csv"), std::string::npos);
  // A device that never ends is refused before a byte is read.
  auto device = sc::read_measurements("/dev/zero");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code(), scalekit::status_code::io_error);
}
