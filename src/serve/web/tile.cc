#include "scalekit/serve/web/tile.h"

#include <cmath>
#include <string>

namespace scalekit::serve::web {

namespace {
constexpr double world_x0 = -2.5, world_y0 = -1.75, world_side = 3.5;
}

result<plane_window> tile_window(int z, std::int64_t x, std::int64_t y) {
  if (z < 0 || z > max_tile_zoom)
    return status::invalid_argument("z: a zoom from 0 to " + std::to_string(max_tile_zoom));
  const std::int64_t tiles = std::int64_t{1} << z;
  if (x < 0 || x >= tiles || y < 0 || y >= tiles)
    return status::invalid_argument("x, y: a tile from 0 to " + std::to_string(tiles - 1) + " at zoom " +
                                    std::to_string(z));
  // side * x and side * (x + 1) are exact (3.5·x needs at most 3 + 44 bits);
  // the sums round once, the same way every time.
  const double side = std::ldexp(world_side, -z);
  plane_window w;
  w.x0 = world_x0 + side * static_cast<double>(x);
  w.x1 = world_x0 + side * static_cast<double>(x + 1);
  w.y0 = world_y0 + side * static_cast<double>(y);
  w.y1 = world_y0 + side * static_cast<double>(y + 1);
  return w;
}

}  // namespace scalekit::serve::web
