#pragma once
// Internal: WebP decoding for the thumbnail fast path, with libwebp's own
// rescaler, so that no full-size image is ever stored.

#include <optional>
#include <string_view>

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

/// Decodes the WebP `data` into `out` (its buffer reused, RGB) for a
/// thumbnail that fits `box_w` x `box_h`: scaled while decoding by the whole
/// factor that still leaves at least two for the final resize (the factor
/// resize()'s box average would take), so that only a Lanczos remains.
/// Returns the full stored size.
///
/// Only the simple file format is taken: one lossy ("VP8 ") or lossless
/// ("VP8L") image without transparency, at most `max_pixels`. nullopt, `out`
/// then unspecified, for the rest, left to libvips: the extended format
/// (animation, alpha, an ICC profile, EXIF), and every error of the decoder
/// (a file cut short, corrupt data), so that libvips reports those in its
/// words. Thread-safe.
std::optional<size2> decode_webp(std::string_view data, std::uint32_t box_w, std::uint32_t box_h,
                                 std::uint64_t max_pixels, raster& out);

}  // namespace scalekit::jobs::thumbnail::detail
