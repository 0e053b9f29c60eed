#pragma once
// Internal: PNG decoding for the thumbnail fast path: the chunks read here,
// the image data inflated whole by libdeflate, the rows unfiltered.

#include <optional>
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

/// decode_png for a thumbnail that fits `box_w` x `box_h`: `out` comes
/// already box-averaged by the whole factors resize() would shrink by first
/// (the same pixels, bit for bit, as resize()'s own box average of the full
/// decode), each row summed as it is unfiltered, so that no full-size image
/// is stored. Returns the full stored size; nullopt where decode_png is false.
std::optional<size2> decode_png_shrunk(std::string_view data, std::uint32_t box_w, std::uint32_t box_h,
                                       std::uint64_t max_pixels, raster& out);

}  // namespace scalekit::jobs::thumbnail::detail
