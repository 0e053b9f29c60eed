// serve's shared cache entries (shared_cache.h): what one server stores in
// Redis another reads back whole; bytes that are not an entry are a miss.

#include "shared_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace sv = scalekit::serve;

namespace {

scalekit::net::http_response tile() {
  scalekit::net::http_response r;
  r.content_type = "image/png";
  r.body = std::string("\x89PNG\r\n\x1a\n\0binary\nbody", 19);
  r.headers = {{"X-Worker-Pid", "42"}, {"ETag", "\"0123456789abcdef\""}, {"X-Cache", "miss"}};
  return r;
}

}  // namespace

TEST(SharedCacheEntry, RoundTripsAllButXCache) {
  const auto back = sv::decode_cached(sv::encode_cached(tile()));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->status, 200);
  EXPECT_EQ(back->content_type, "image/png");
  EXPECT_EQ(back->body, tile().body);
  const std::vector<scalekit::net::http_header> kept = {{"X-Worker-Pid", "42"}, {"ETag", "\"0123456789abcdef\""}};
  EXPECT_EQ(back->headers, kept);
}

TEST(SharedCacheEntry, ForeignOrDamagedBytesAreAMiss) {
  const std::string good = sv::encode_cached(tile());
  EXPECT_FALSE(sv::decode_cached("").has_value());
  EXPECT_FALSE(sv::decode_cached("some other program's value").has_value());
  EXPECT_FALSE(sv::decode_cached(good.substr(0, 30)).has_value());  // cut inside the fields
  std::string bad_count = good;
  bad_count.replace(bad_count.find("\n2\n"), 3, "\n9x\n");
  EXPECT_FALSE(sv::decode_cached(bad_count).has_value());
  std::string bad_field = good;
  bad_field.replace(bad_field.find("X-Worker-Pid: "), 14, "X Worker Pid: ");  // not a token
  EXPECT_FALSE(sv::decode_cached(bad_field).has_value());
}
