#include "scalekit/taskqueue/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace celery = scalekit::taskqueue::celery;

TEST(Celery, Base64RoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(celery::base64_decode(celery::base64_encode(s)).value(), s);
  }
  EXPECT_EQ(celery::base64_encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(celery::base64_decode("abc").ok());
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
