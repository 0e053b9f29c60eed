#pragma once
// A band of rows: the payload of the mandelbrot.rows task, shared by the task
// itself and by its Celery mapping (celery_task.cc).

#include <string>
#include <string_view>

#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::jobs::mandelbrot {

struct band {
  params p;
  std::uint32_t y0 = 0, y1 = 0;  ///< rows [y0, y1)
  kernel_kind kernel = kernel_kind::simd;
};

std::string encode_band(const band& b);
/// @throws std::invalid_argument (or core::wire_error) for a malformed payload.
band decode_band(std::string_view payload);

}  // namespace scalekit::jobs::mandelbrot
