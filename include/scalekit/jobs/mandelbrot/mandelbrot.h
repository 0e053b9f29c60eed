#pragma once
// The Mandelbrot job: the seed's image (chapter 5), row-parallel on any executor.
//
// Pixel (x, y) of a W x H image: c = (x*(3.5/W) - 2.5) + (y*(2/H) - 1)i; iterate
// z = z*z + c from 0 while |z| < 2 and i < n; colour (i%8*32, i%16*16, i%32*8).
// The arithmetic is CPython's, operation for operation (z*z is
// (x*x - y*y, x*y + y*x) in double precision, |z| is hypot), so the image
// matches the seed's Python pixel for pixel; see docs/DESIGN.md.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::mandelbrot {

/// Largest image the job accepts, in pixels (bounds memory: 3 bytes a pixel).
inline constexpr std::uint64_t max_pixels = std::uint64_t{1} << 28;  // 268 M pixels, 768 MiB of RGB
/// Largest side (PNG allows 2^31-1; we stay well inside).
inline constexpr std::uint32_t max_side = 1u << 20;

struct params {
  std::uint32_t width = 640;
  std::uint32_t height = 480;
  std::uint32_t max_iterations = 1000;
};

/// OK, or invalid_argument / too_large naming the bad value.
status validate(const params& p);

enum class kernel_kind {
  scalar,  ///< plain C++, one pixel at a time
  simd,    ///< Highway, the widest vectors this CPU has (chosen at run time)
};
std::optional<kernel_kind> parse_kernel(std::string_view name);

/// Iteration counts of row y into out[0..width). REQUIRES validate(p).ok(), y < height.
void row_iterations_scalar(const params& p, std::uint32_t y, std::uint32_t* out);
void row_iterations_simd(const params& p, std::uint32_t y, std::uint32_t* out);
/// The vector target the simd kernel dispatches to on this CPU ("AVX3", "AVX2", ...).
std::string simd_target_name();

/// The seed's colour scheme (a Julia-set palette).
inline void colour(std::uint32_t i, std::uint8_t* rgb) {
  rgb[0] = static_cast<std::uint8_t>(i % 8 * 32);
  rgb[1] = static_cast<std::uint8_t>(i % 16 * 16);
  rgb[2] = static_cast<std::uint8_t>(i % 32 * 8);
}

/// RGB bytes of rows [y0, y1), row-major, 3 bytes a pixel.
std::string render_rows(const params& p, std::uint32_t y0, std::uint32_t y1, kernel_kind k);

/// Name of the registered task that renders a band of rows.
inline constexpr const char* rows_task = "mandelbrot.rows";
/// Register the job's tasks in core::task_registry::global(). Call once, at start.
void register_tasks();

struct image {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  ///< width*height*3 bytes
};

struct render_options {
  kernel_kind kernel = kernel_kind::simd;
  /// Rows per task; 0: automatic (enough tasks for balance, few enough to stay cheap).
  std::uint32_t rows_per_task = 0;
  /// Called after each finished band with (rows done, rows total); may be empty.
  std::function<void(std::uint32_t, std::uint32_t)> progress;
};

/// Render the whole image on `ex`. A failed band fails the render, with the
/// band's error. REQUIRES validate(p).ok().
result<image> render(const params& p, core::executor& ex, const render_options& options = {});

/// Write `img` as an 8-bit RGB PNG, atomically: a temporary file in the same
/// directory, renamed over `path` only when complete. `path` ending in ".rgb"
/// writes the raw bytes instead (for checksums). On error nothing is left behind.
status write_image(const image& img, const std::string& path);

}  // namespace scalekit::jobs::mandelbrot
