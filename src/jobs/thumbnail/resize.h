#pragma once
// Internal: the fast path's resampling and its turn upright.

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

/// `in` resampled to width x height (each at most in's side), as libvips'
/// vips_resize does it: a box average by the whole factor that leaves at
/// least two, then a separable Lanczos-3 for the rest; the edge pixels
/// repeat. REQUIRES: width, height >= 1.
raster resize(const raster& in, std::uint32_t width, std::uint32_t height);

/// `in` turned upright from its EXIF orientation (1..8): flipped, rotated or
/// transposed; orientations 5 to 8 swap width and height.
raster orient(raster in, int orientation);

}  // namespace scalekit::jobs::thumbnail::detail
