// libFuzzer target for the thumbnail fast path's parsers: any bytes as a PNG
// (chunks, inflate, unfiltering, palette, 16 bits), as a JPEG (markers, EXIF,
// ICC, DCT-scaled decode), as a WebP (RIFF header, features, scaled decode)
// and as an EXIF APP1 payload, then the resize and
// the turn upright of whatever decoded. Nothing may read out of bounds or
// crash; a decode either succeeds with a consistent raster or declines.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "thumbnail/exif_orientation.h"
#include "thumbnail/jpeg_decode.h"
#include "thumbnail/png_decode.h"
#include "thumbnail/resize.h"
#include "thumbnail/webp_decode.h"

namespace d = scalekit::jobs::thumbnail::detail;

namespace {

void check_and_shrink(const d::raster& r, int orientation) {
  if (r.data.size() != std::size_t{r.width} * r.height * r.channels) std::abort();
  if (r.width == 0 || r.height == 0) return;
  const d::size2 t = d::fit_in_box(r.width, r.height, 16, 16);
  const d::raster small = d::orient(d::resize(r, t.width, t.height), orientation);
  if (small.data.size() != std::size_t{small.width} * small.height * small.channels) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr std::uint64_t max_pixels = 1 << 22;  // bounded memory per input
  d::raster r;
  if (d::decode_png(bytes, max_pixels, r)) check_and_shrink(r, 1);
  if (const auto p = d::decode_png_shrunk(bytes, 16, 16, max_pixels, r)) {
    if (r.width == 0 || r.height == 0 || r.width > p->width || r.height > p->height) std::abort();
    check_and_shrink(r, 1);
  }
  if (const auto j = d::decode_jpeg(bytes, 16, 16, max_pixels, r)) {
    if (j->orientation < 1 || j->orientation > 8) std::abort();
    if (r.channels != 4) check_and_shrink(r, j->orientation);
  }
  if (const auto w = d::decode_webp(bytes, 16, 16, max_pixels, r)) {
    if (w->width == 0 || w->height == 0 || r.width > w->width || r.height > w->height) std::abort();
    check_and_shrink(r, 1);
  }
  const int o = d::exif_orientation(bytes);
  if (o < 1 || o > 8) std::abort();
  return 0;
}
