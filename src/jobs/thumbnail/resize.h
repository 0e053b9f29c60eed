#pragma once
// Internal: the fast path's resampling and its turn upright.

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

/// `in` resampled to width x height (each at most in's side), as libvips'
/// vips_resize does it: a box average by the whole factor that leaves at
/// least two, then a separable Lanczos-3 for the rest; the edge pixels
/// repeat. REQUIRES: width, height >= 1.
raster resize(const raster& in, std::uint32_t width, std::uint32_t height);

/// The whole factor resize() first shrinks an axis by, with a box average,
/// going from `from` to `to` pixels: the largest that leaves at least two for
/// the Lanczos (1 when the factor is below four).
std::uint32_t box_factor(std::uint32_t from, std::uint32_t to);

/// resize()'s box average, fed a row at a time: the rows of a `width` x
/// `height` image (`channels` bytes a pixel, rows packed), top to bottom,
/// averaged by blocks of kx x ky into `out` (width / kx by height / ky: the
/// partial blocks at the far edges are left out). A decoder that feeds it its
/// rows as it makes them never stores the full-size image. REQUIRES: kx, ky
/// >= 1, kx <= width, ky <= height; at most `height` rows added.
class box_rows {
 public:
  box_rows(std::uint32_t width, std::uint32_t channels, std::uint32_t kx, std::uint32_t ky, std::uint32_t height,
           raster& out);
  /// One row of width * channels bytes.
  void add(const std::uint8_t* row);

 private:
  raster& out_;
  std::uint32_t kx_, ky_, channels_;
  std::uint32_t y_ = 0;             // rows added
  std::vector<std::uint32_t> sum_;  // per input column and channel, over the block's rows so far
};

/// `in` turned upright from its EXIF orientation (1..8): flipped, rotated or
/// transposed; orientations 5 to 8 swap width and height.
raster orient(raster in, int orientation);

}  // namespace scalekit::jobs::thumbnail::detail
