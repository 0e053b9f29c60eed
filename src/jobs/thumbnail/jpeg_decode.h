#pragma once
// Internal: JPEG decoding for the thumbnail fast path, with libjpeg-turbo's
// DCT-domain scaling, so that most pixels of a large photo are never made.

#include <optional>
#include <string_view>

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

struct jpeg_header {
  std::uint32_t width = 0, height = 0;  ///< the full stored size
  int orientation = 1;                  ///< EXIF orientation, 1..8
};

/// Decodes the JPEG `data` into `out` (its buffer reused; scaled, in stored,
/// not upright, orientation) for a thumbnail that fits `box_w` x `box_h`:
/// scaled on decode by the largest of 1/8, 1/4, 1/2 that still leaves a
/// factor of two for the final resize (as vips_thumbnail's shrink-on-load
/// does), to RGB or grey.
///
/// nullopt, `out` then unspecified, for anything the fast path leaves to
/// libvips: not a JPEG, CMYK or YCCK, an ICC profile not named sRGB, more than `max_pixels`,
/// and every error or warning of the decoder (a file cut short, corrupt
/// data), so that libvips reports those in its words. Thread-safe.
std::optional<jpeg_header> decode_jpeg(std::string_view data, std::uint32_t box_w, std::uint32_t box_h,
                                       std::uint64_t max_pixels, raster& out);

}  // namespace scalekit::jobs::thumbnail::detail
