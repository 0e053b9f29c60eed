// libFuzzer target: any bytes as an RLE file. Decoding must never crash or
// read out of bounds; what decodes must survive a round trip: encoding it and
// decoding again gives the same image.

#include <cstdlib>

#include "scalekit/jobs/rle/rle.h"

namespace rle = scalekit::jobs::rle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto image = rle::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!image.ok()) return 0;
  const auto again = rle::decode(rle::encode(image.value()));
  if (!again.ok() || !(again.value() == image.value())) std::abort();
  return 0;
}
