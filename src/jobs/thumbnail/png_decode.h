#pragma once
// Internal: PNG decoding for the thumbnail fast path: the chunks read here,
// the image data inflated whole by libdeflate, the rows unfiltered.

#include <optional>
#include <string_view>

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

/// Decodes the PNG `data` when it is 8-bit grey or RGB, not interlaced, with
/// no transparency chunk and no ICC profile, and declares at most
/// `max_pixels`. nullopt otherwise, and for any flaw (a bad CRC, data cut
/// short or left over, a missing IEND): the caller hands those to libvips,
/// whose messages the jobs report. Thread-safe.
std::optional<raster> decode_png(std::string_view data, std::uint64_t max_pixels);

}  // namespace scalekit::jobs::thumbnail::detail
