#include "scalekit/taskqueue/packing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "scalekit/taskqueue/base64.h"

namespace celery = scalekit::taskqueue::celery;

namespace {
// The frame inside a packed JSON string: base64-decoded, quotes stripped.
std::string frame_of(const std::string& packed) {
  return celery::base64_decode(packed.substr(1, packed.size() - 2)).value();
}
std::string z_frame(std::uint64_t claimed, const std::string& stream) {
  std::string f = "z" + std::string(8, '\0') + stream;
  std::memcpy(f.data() + 1, &claimed, 8);
  return "\"" + celery::base64_encode(f) + "\"";
}
}  // namespace

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

TEST(Celery, PackedBytesAreFramedAsTheSpecSays) {
  EXPECT_EQ(celery::pack_bytes("hi"), "\"cmhp\"");  // the spec's example: base64 of "rhi"
  const std::string below(1023, '\0'), above(1024, '\0');
  EXPECT_EQ(frame_of(celery::pack_bytes(below)), "r" + below);  // too small to try zlib
  const std::string z = frame_of(celery::pack_bytes(above));
  ASSERT_GT(z.size(), 9u);
  EXPECT_EQ(z[0], 'z');
  std::uint64_t n = 0;
  std::memcpy(&n, z.data() + 1, 8);
  EXPECT_EQ(n, 1024u);
  EXPECT_EQ(celery::unpack_bytes(R"("cm\u0068p")").value(), "hi");  // any JSON spelling of the string
}

TEST(Celery, UnpackingRefusesWhatIsNotPackedBytes) {
  EXPECT_EQ(celery::unpack_bytes("42").error().code(), scalekit::status_code::corruption);  // not a JSON string
  EXPECT_EQ(celery::unpack_bytes("\"" + celery::base64_encode("xyz") + "\"").error().code(),
            scalekit::status_code::corruption);  // an unknown frame kind
  const std::string stream = frame_of(celery::pack_bytes(std::string(4096, 'a'))).substr(9);
  EXPECT_EQ(celery::unpack_bytes(z_frame(std::uint64_t{1} << 33, stream)).error().code(),
            scalekit::status_code::too_large);
  EXPECT_EQ(celery::unpack_bytes(z_frame(4095, stream)).error().code(), scalekit::status_code::corruption);
  EXPECT_EQ(celery::unpack_bytes(z_frame(4096, stream)).value(), std::string(4096, 'a'));
}
