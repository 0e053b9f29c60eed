#pragma once
// Internal: PNG decoding for the thumbnail fast path: the chunks read here,
// the image data inflated whole by libdeflate, the rows unfiltered.

#include <string_view>

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

/// Decodes the PNG `data` into `out` (its buffer reused, 8 bits a sample)
/// when it is 8-bit grey, RGB or palette (looked up into RGB), or 16-bit grey
/// or RGB (their high bytes kept), not interlaced, with no transparency chunk and no ICC
/// profile, and declares at most `max_pixels`. False otherwise, `out` then
/// unspecified, and for any flaw (a bad CRC, data cut short or left over, a
/// missing IEND): the caller hands those to libvips, whose messages the jobs
/// report. Thread-safe.
bool decode_png(std::string_view data, std::uint64_t max_pixels, raster& out);

}  // namespace scalekit::jobs::thumbnail::detail
