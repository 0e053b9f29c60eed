#pragma once
// Internal: decoded pixels as the fast path passes them between its steps,
// and the size a thumbnail takes.

#include <cstdint>
#include <vector>

namespace scalekit::jobs::thumbnail::detail {

/// 8-bit pixels, rows packed (no padding), `channels` bytes each: 1 (grey)
/// or 3 (RGB).
struct raster {
  std::uint32_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> data;
};

/// The thumbnail's size for an upright image of w x h in a box of box_w x
/// box_h, as vips_thumbnail computes it: one shrink factor for both axes,
/// that of the side that fits last, never below 1 (shrink only), each side
/// rounded to the nearest pixel and at least 1.
struct size2 {
  std::uint32_t width, height;
};
size2 fit_in_box(std::uint32_t w, std::uint32_t h, std::uint32_t box_w, std::uint32_t box_h);

}  // namespace scalekit::jobs::thumbnail::detail
