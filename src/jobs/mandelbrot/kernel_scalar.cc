// The plain scalar kernel, and the escape test both kernels share.

#include <cmath>

#include "escape.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::jobs::mandelbrot {

void row_iterations_scalar(const params& p, std::uint32_t y, std::uint32_t* out) {
  // With the default region these are the seed's x*(3.5/W) - 2.5 and y*(2/H) - 1,
  // bit for bit: 1 - (-2.5) and 1 - (-1) are exact, and adding -2.5 is subtracting 2.5.
  const double ci = static_cast<double>(y) * ((p.y1 - p.y0) / static_cast<double>(p.height)) + p.y0;
  const double sx = (p.x1 - p.x0) / static_cast<double>(p.width);
  for (std::uint32_t x = 0; x < p.width; ++x) {
    const double cr = static_cast<double>(x) * sx + p.x0;
    if (p.shortcut && detail::surely_never_escapes(cr, ci)) {
      out[x] = p.max_iterations;
      continue;
    }
    double zr = 0, zi = 0;
    std::uint32_t i = 0;
    while (i < p.max_iterations) {
      const double xx = zr * zr, yy = zi * zi;
      if (!detail::inside(xx + yy, zr, zi)) break;
      const double re = xx - yy, im = zr * zi + zi * zr;
      zr = re + cr;
      zi = im + ci;
      ++i;
    }
    out[x] = i;
  }
}

}  // namespace scalekit::jobs::mandelbrot
