// --degrade's coarser tile: what an overloaded worker draws instead of
// refusing. A 256-px tile at n = 1000 costs up to 65 M iterations; its coarse
// form at most 64 x 64 x 256 = 1 M, and no executor.

#include <algorithm>
#include <vector>

#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "worker_detail.h"

namespace scalekit::serve {

namespace mb = jobs::mandelbrot;

net::http_response coarse_tile(std::string_view query) {
  mb::params p;
  if (auto refused = tile_params(query, p)) return std::move(*refused);
  // Coarse pixel (X, Y) is the full tile's pixel (X * f, Y * f): the region
  // grows to whole blocks, its step f times the full one.
  const std::uint32_t f = std::max<std::uint32_t>(1, (std::max(p.width, p.height) + coarse_side - 1) / coarse_side);
  mb::params c = p;
  c.width = (p.width + f - 1) / f;
  c.height = (p.height + f - 1) / f;
  c.x1 = p.x0 + (p.x1 - p.x0) * (static_cast<double>(c.width) * f / p.width);
  c.y1 = p.y0 + (p.y1 - p.y0) * (static_cast<double>(c.height) * f / p.height);
  c.max_iterations = std::min(p.max_iterations, coarse_iterations);
  mb::image img{p.width, p.height, std::vector<std::uint8_t>(std::size_t{p.width} * p.height * 3)};
  std::vector<std::uint32_t> counts(c.width);
  for (std::uint32_t y = 0; y < c.height; ++y) {
    mb::row_iterations_simd(c, y, counts.data());
    for (std::uint32_t x = 0; x < c.width; ++x) {
      std::uint8_t rgb[3];
      mb::colour(counts[x] == c.max_iterations ? p.max_iterations : counts[x], rgb);
      for (std::uint32_t fy = y * f; fy < std::min(p.height, (y + 1) * f); ++fy)
        for (std::uint32_t fx = x * f; fx < std::min(p.width, (x + 1) * f); ++fx)
          std::copy_n(rgb, 3, &img.rgb[(std::size_t{fy} * p.width + fx) * 3]);
    }
  }
  auto png = mb::encode_png(img, 1);  // blocks compress well at any level: the fastest
  net::http_response r;
  if (!png.ok()) {
    r.status = 500;
    r.body = png.error().message() + "\n";
    return r;
  }
  r.content_type = "image/png";
  r.body = std::move(png).value();
  r.headers.push_back({"X-Degraded", "coarse"});
  r.headers.push_back({"Cache-Control", "no-store"});  // the real tile is worth asking for again
  return r;
}

}  // namespace scalekit::serve
