#include "scalekit/taskqueue/packing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scalekit/taskqueue/base64.h"

namespace celery = scalekit::taskqueue::celery;

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
