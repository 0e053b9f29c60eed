#include "scalekit/jobs/mandelbrot/mandelbrot.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "band.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::mandelbrot {

status validate(const params& p) {
  if (p.width == 0) return status::invalid_argument("width must be at least 1");
  if (p.height == 0) return status::invalid_argument("height must be at least 1");
  if (p.max_iterations == 0) return status::invalid_argument("iterations must be at least 1");
  if (!std::isfinite(p.x0) || !std::isfinite(p.y0) || !std::isfinite(p.x1) || !std::isfinite(p.y1) || !(p.x1 > p.x0) ||
      !(p.y1 > p.y0) || !std::isfinite(p.x1 - p.x0) || !std::isfinite(p.y1 - p.y0))
    return status::invalid_argument("the region must have x0 < x1 and y0 < y1, all finite");
  if (p.width > max_side || p.height > max_side)
    return status::too_large("image side above " + std::to_string(max_side) + " pixels");
  const std::uint64_t pixels = std::uint64_t{p.width} * p.height;
  if (pixels > max_pixels)
    return status::too_large(std::to_string(p.width) + "x" + std::to_string(p.height) + " is " +
                             std::to_string(pixels) + " pixels; the limit is " + std::to_string(max_pixels));
  return {};
}

std::optional<kernel_kind> parse_kernel(std::string_view name) {
  if (name == "scalar") return kernel_kind::scalar;
  if (name == "simd") return kernel_kind::simd;
  return std::nullopt;
}

std::string render_rows(const params& p, std::uint32_t y0, std::uint32_t y1, kernel_kind k) {
  std::string rgb(std::size_t{p.width} * (y1 - y0) * 3, '\0');
  std::vector<std::uint32_t> counts(p.width);
  auto* out = reinterpret_cast<std::uint8_t*>(rgb.data());
  for (std::uint32_t y = y0; y < y1; ++y) {
    if (k == kernel_kind::simd) {
      row_iterations_simd(p, y, counts.data());
    } else {
      row_iterations_scalar(p, y, counts.data());
    }
    for (std::uint32_t x = 0; x < p.width; ++x, out += 3) colour(counts[x], out);
  }
  return rgb;
}

// Payload of mandelbrot.rows: width, height, iterations, first row, end row, kernel, shortcut, region.
std::string encode_band(const band& b) {
  core::wire_writer w;
  w.put(b.p.width).put(b.p.height).put(b.p.max_iterations).put(b.y0).put(b.y1).put(static_cast<std::uint8_t>(b.kernel));
  w.put(static_cast<std::uint8_t>(b.p.shortcut ? 1 : 0));
  w.put(b.p.x0).put(b.p.y0).put(b.p.x1).put(b.p.y1);
  return w.take();
}

band decode_band(std::string_view payload) {
  core::wire_reader in(payload);
  band b;
  b.p.width = in.get<std::uint32_t>();
  b.p.height = in.get<std::uint32_t>();
  b.p.max_iterations = in.get<std::uint32_t>();
  b.y0 = in.get<std::uint32_t>();
  b.y1 = in.get<std::uint32_t>();
  const auto k = in.get<std::uint8_t>();
  b.p.shortcut = in.get<std::uint8_t>() != 0;
  b.p.x0 = in.get<double>();
  b.p.y0 = in.get<double>();
  b.p.x1 = in.get<double>();
  b.p.y1 = in.get<double>();
  in.expect_end();
  if (status s = validate(b.p); !s.ok()) throw std::invalid_argument(s.message());
  if (b.y0 >= b.y1 || b.y1 > b.p.height) throw std::invalid_argument("row range out of bounds");
  if (k > static_cast<std::uint8_t>(kernel_kind::simd)) throw std::invalid_argument("unknown kernel");
  b.kernel = static_cast<kernel_kind>(k);
  return b;
}

namespace {

core::bytes rows_task_body(std::string_view payload) {
  const band b = decode_band(payload);
  return render_rows(b.p, b.y0, b.y1, b.kernel);
}

core::bytes traced_rows_task_body(std::string_view payload) {
  const band b = decode_band(payload);
  return core::wire_writer().put_string(core::runner_name()).put_string(render_rows(b.p, b.y0, b.y1, b.kernel)).take();
}

}  // namespace

void register_tasks() {
  core::task_registry::global().add(rows_task, rows_task_body);
  core::task_registry::global().add(traced_rows_task, traced_rows_task_body);
}

status render_to(const params& p, core::executor& ex, const row_sink& sink, const render_options& options) {
  if (status s = validate(p); !s.ok()) return s;
  std::uint32_t per_task = options.rows_per_task;
  if (per_task == 0) {
    // ~32 bands per worker balances uneven rows and lets the finished prefix
    // stream out early; never below one row.
    const auto bands = static_cast<std::uint32_t>(std::max<std::size_t>(1, ex.concurrency() * 32));
    per_task = std::max<std::uint32_t>(1, p.height / bands);
  }
  std::vector<core::bytes> payloads;
  std::vector<std::uint32_t> first_row;
  for (std::uint32_t y = 0; y < p.height; y += per_task) {
    const std::uint32_t y1 = std::min(p.height, y + per_task);
    payloads.push_back(encode_band(band{p, y, y1, options.kernel}));
    first_row.push_back(y);
  }
  const std::size_t row_bytes = std::size_t{p.width} * 3;
  // Bands reach the sink in row order as soon as the finished prefix grows;
  // memory holds only the bands that finished out of order, not the image.
  std::uint32_t rows_done = 0;
  status first_error;
  const bool traced = static_cast<bool>(options.on_runner);
  ex.map_streaming(traced ? traced_rows_task : rows_task, std::move(payloads),
                   [&](std::size_t i, result<core::bytes>& band) {
                     const std::uint32_t y0 = first_row[i];
                     const std::uint32_t rows = std::min(per_task, p.height - y0);
                     if (!band.ok()) {
                       if (first_error.ok()) first_error = band.error();
                       return;  // the rest still complete: none is abandoned
                     }
                     std::string_view rgb = band.value();
                     if (traced) {
                       try {
                         core::wire_reader in(rgb);
                         const std::string_view runner = in.get_string();
                         rgb = in.get_string();
                         in.expect_end();
                         if (first_error.ok()) options.on_runner(runner);
                       } catch (const std::exception& e) {
                         if (first_error.ok())
                           first_error = status::corruption("band at row " + std::to_string(y0) + ": " + e.what());
                         return;
                       }
                     }
                     if (rgb.size() != rows * row_bytes) {
                       if (first_error.ok())
                         first_error = status::corruption("band at row " + std::to_string(y0) + " has the wrong size");
                       return;
                     }
                     rows_done += rows;
                     if (options.progress) options.progress(rows_done, p.height);
                     if (first_error.ok())
                       first_error = sink(y0, reinterpret_cast<const std::uint8_t*>(rgb.data()), rows);
                   });
  return first_error;
}

result<image> render(const params& p, core::executor& ex, const render_options& options) {
  if (status s = validate(p); !s.ok()) return s;
  image img;
  img.width = p.width;
  img.height = p.height;
  img.rgb.resize(std::size_t{p.width} * p.height * 3);
  const std::size_t row_bytes = std::size_t{p.width} * 3;
  status s = render_to(
      p, ex,
      [&](std::uint32_t y0, const std::uint8_t* rgb, std::uint32_t rows) {
        std::memcpy(img.rgb.data() + y0 * row_bytes, rgb, rows * row_bytes);
        return status{};
      },
      options);
  if (!s.ok()) return s;
  return img;
}

}  // namespace scalekit::jobs::mandelbrot
