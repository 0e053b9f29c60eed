// libFuzzer target: any bytes as a BMP file. Parsing its headers must never
// crash or read out of bounds; when they describe a 1-bit BMP that the bytes
// hold, every row lies inside the file (ASan checks each read), and its
// pixels survive an RLE round trip and a BMP written and parsed again.

#include <cstdlib>
#include <cstring>
#include <string>

#include "scalekit/jobs/rle/bmp.h"
#include "scalekit/jobs/rle/rle.h"

namespace rle = scalekit::jobs::rle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  const auto info = rle::parse_bmp(file.substr(0, rle::bmp_head_bytes), size);
  if (!info.ok() || !info->one_bit) return 0;
  if (info->width > rle::max_side || info->height > rle::max_side || info->bytes_needed > size) return 0;
  // The rows exactly as long as the file holds them (the last may lack its
  // padding), so that ASan sees a read past the end; then copied with the
  // encoder's spare bytes.
  const std::string exact(file.substr(0, info->bytes_needed));
  rle::bitmap image(info->width, info->height);
  for (std::uint32_t y = 0; y < info->height; ++y)
    std::memcpy(image.row(y), rle::bmp_row(exact, *info, y), image.stride());
  const auto back = rle::decode(rle::encode(image));
  if (!back.ok() || !(back.value() == image)) std::abort();
  const std::string again = rle::bmp_file(image);
  const auto again_info = rle::parse_bmp(again, again.size());
  if (!again_info.ok() || !again_info->one_bit || again_info->width != info->width ||
      again_info->height != info->height || again_info->bytes_needed > again.size())
    std::abort();
  return 0;
}
