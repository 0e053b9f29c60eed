#pragma once
// Tile addressing for the Mandelbrot explorer (serve's page at /): the map's
// tiles, by zoom z and column/row x, y, as windows of the complex plane.
//
//   z = 0: one tile, the world square re [-2.5, 1] × im [-1.75, 1.75]
//   z:     2^z × 2^z tiles of side 3.5 / 2^z, x to the right, y downwards
//          (im grows downwards, as rows do in `scalekit mandelbrot`)
//
//   GET /mandelbrot.png?z=3&x=2&y=5&n=400  ==  GET /mandelbrot.png?w=256&h=256&n=400&x0=..&y0=..&x1=..&y1=..
//
// The window's corners are exact binary fractions (3.5 has three significant
// bits), so up to max_tile_zoom the same (z, x, y) always means the same
// doubles, and `scalekit mandelbrot --region` with them prints the same pixels.

#include <cstdint>

#include "scalekit/core/status.h"

namespace scalekit::serve::web {

/// The side of a tile in pixels.
inline constexpr std::uint32_t tile_pixels = 256;
/// The deepest zoom: below it a pixel is still far above a double's spacing
/// near the set (3.5 / 2^46 / 256 ≈ 2e-16 · 1.5).
inline constexpr int max_tile_zoom = 44;

/// A window of the complex plane: re [x0, x1], im [y0, y1].
struct plane_window {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

/// The window of tile (z, x, y). invalid_argument when z is outside
/// 0..max_tile_zoom or x, y outside 0..2^z − 1.
result<plane_window> tile_window(int z, std::int64_t x, std::int64_t y);

}  // namespace scalekit::serve::web
