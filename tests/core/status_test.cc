#include "scalekit/core/status.h"

#include <gtest/gtest.h>

#include "scalekit/core/wire.h"

using namespace scalekit;

TEST(Status, OkAndErrors) {
  status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.to_string(), "OK");
  auto e = status::io_error("disk gone");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.code(), status_code::io_error);
  EXPECT_EQ(e.to_string(), "I/O error: disk gone");
}

TEST(Result, HoldsValueOrStatus) {
  result<int> a(5);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value(), 5);
  result<int> b(status::invalid_argument("bad"));
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.error().message(), "bad");
}

TEST(Wire, RoundTripsAndRejectsTruncation) {
  core::wire_writer w;
  w.put<std::uint32_t>(7).put<double>(2.5).put_string("hey");
  const std::string s = w.take();
  core::wire_reader r(s);
  EXPECT_EQ(r.get<std::uint32_t>(), 7u);
  EXPECT_EQ(r.get<double>(), 2.5);
  EXPECT_EQ(r.get_string(), "hey");
  EXPECT_NO_THROW(r.expect_end());
  core::wire_reader cut(std::string_view(s).substr(0, s.size() - 1));
  cut.get<std::uint32_t>();
  cut.get<double>();
  EXPECT_THROW(cut.get_string(), core::wire_error);
}
