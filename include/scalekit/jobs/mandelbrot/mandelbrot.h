#pragma once
// The Mandelbrot job: the seed's image (chapter 5), row-parallel on any executor.
//
// Pixel (x, y) of a W x H image: c = (x*(3.5/W) - 2.5) + (y*(2/H) - 1)i (or any
// other region of the plane, params::x0..y1); iterate
// z = z*z + c from 0 while |z| < 2 and i < n; colour (i%8*32, i%16*16, i%32*8).
// The arithmetic is CPython's, operation for operation (z*z is
// (x*x - y*y, x*y + y*x) in double precision, |z| is hypot), so the image
// matches the seed's Python pixel for pixel; see docs/DESIGN.md.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
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
  /// Skip the iteration for points surely inside the main cardioid or the
  /// period-2 bulb (they never escape, so their count is max_iterations).
  /// Same pixels either way; false iterates every pixel to the end, as the seed does.
  bool shortcut = true;
  /// The region of the complex plane: pixel (x, y) is c = (x0 + x*((x1-x0)/width)) + (y0 + y*((y1-y0)/height))i.
  /// The defaults give the seed's image exactly ((x1-x0) is 3.5 and (y1-y0) 2, both exact).
  double x0 = -2.5, y0 = -1.0, x1 = 1.0, y1 = 1.0;
  /// The seed's region: what its Celery task (one row, no region) can draw.
  [[nodiscard]] bool default_region() const noexcept { return x0 == -2.5 && y0 == -1.0 && x1 == 1.0 && y1 == 1.0; }
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
/// The vector target the simd kernel dispatches to on this CPU ("AVX3", "AVX2",
/// ...); the environment variable SCALEKIT_SIMD_TARGET picks another usable one.
std::string simd_target_name();
/// Every target this CPU can run, best first.
std::vector<std::string> simd_targets();
/// row_iterations_simd on a given target. @throws std::invalid_argument when not usable.
void row_iterations_simd_on(const std::string& target, const params& p, std::uint32_t y, std::uint32_t* out);

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
/// Name of the task that renders a band and says where it ran: its result is
/// two wire strings (core/wire.h), core::runner_name() of the process that ran
/// it, then the band's RGB bytes.
inline constexpr const char* traced_rows_task = "mandelbrot.traced_rows";
/// Register the job's tasks in core::task_registry::global(). Call once, at start.
void register_tasks();

/// The seed's Celery task (chapter 5): mandelbrot_calc_row(y, w, h,
/// max_iteration=1000) -> {"<y*w+x>": [r, g, b], ...}, one row per task.
inline constexpr const char* celery_row_task = "mandelbrot_tasks.mandelbrot_calc_row";
/// Register it with taskqueue::celery, so that `scalekit worker` serves it.
void register_celery_tasks();

struct image {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  ///< width*height*3 bytes
};

/// Receives finished rows in order: rows [y0, y0 + rows), `rows * width * 3`
/// bytes, valid during the call. Called from the thread that called
/// render_to(). A non-OK status stops the output (the remaining calls still
/// complete, none is abandoned) and render_to() returns it.
using row_sink = std::function<status(std::uint32_t y0, const std::uint8_t* rgb, std::uint32_t rows)>;

struct render_options {
  kernel_kind kernel = kernel_kind::simd;
  /// Rows per task; 0: automatic (enough tasks for balance, few enough to stay cheap).
  std::uint32_t rows_per_task = 0;
  /// Called after each finished band with (rows done, rows total); may be empty.
  std::function<void(std::uint32_t, std::uint32_t)> progress;
  /// When set, the bands run as traced_rows_task and this is called with each
  /// band's runner (a distributed worker's "NAME (pid N)", or "pid N"), from
  /// the calling thread, in row order.
  std::function<void(std::string_view runner)> on_runner;
};

/// Render on `ex`, streaming rows to `sink` in order as soon as the finished
/// prefix grows (memory: only the bands that finished out of order). A failed
/// band fails the render with the band's error; invalid params fail at once.
status render_to(const params& p, core::executor& ex, const row_sink& sink, const render_options& options = {});

/// Render the whole image into memory (render_to with a sink that collects).
result<image> render(const params& p, core::executor& ex, const render_options& options = {});

/// Streams an image to a file, row by row, atomically: rows go to a hidden
/// temporary file in the target's directory, which commit() renames over the
/// target. Destroyed without commit(), the temporary is removed: an error or an
/// interruption never leaves a partial image behind.
/// Format by extension: ".rgb" writes raw RGB bytes (for checksums), anything
/// else an 8-bit RGB PNG (libspng, no row filter, zlib level `png_level`).
/// Not thread-safe: one thread writes.
class image_writer {
 public:
  /// Creates the temporary file; fails (io_error naming `path`) when the
  /// directory does not exist or is not writable.
  /// `png_level` is zlib's level, 0 (store) to 9 (smallest); see default_png_level.
  static result<std::unique_ptr<image_writer>> open(const std::string& path, std::uint32_t width, std::uint32_t height,
                                                    int png_level = default_png_level);
  static constexpr int default_png_level = 3;
  ~image_writer();
  image_writer(const image_writer&) = delete;
  image_writer& operator=(const image_writer&) = delete;

  /// Append `rows` rows (rows * width * 3 bytes). REQUIRES rows in order, not past height.
  status write_rows(const std::uint8_t* rgb, std::uint32_t rows);
  /// REQUIRES all rows written. Finishes the file and renames it into place.
  status commit();
  /// The temporary file's path (for removal from a signal handler).
  [[nodiscard]] const std::string& temp_path() const noexcept;

 private:
  struct state;
  explicit image_writer(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
};

/// Write a whole image through image_writer.
status write_image(const image& img, const std::string& path);

/// The image as PNG bytes in memory (the settings of image_writer). Thread-safe.
result<std::string> encode_png(const image& img, int png_level = image_writer::default_png_level);

/// The job: what `scalekit mandelbrot` draws.
struct options {
  params image;
  std::string output = "mandelbrot.png";  ///< ".png" (PNG) or ".rgb" (raw RGB bytes), any letter case
  kernel_kind kernel = kernel_kind::simd;
  std::uint32_t rows_per_task = 0;  ///< 0: automatic
  int png_level = image_writer::default_png_level;
};

/// Render the image on `ex` into o.output, written whole or not at all.
/// Progress in rows. Returns invalid_argument for options it refuses (a size
/// past the limits, an output whose extension is neither .png nor .rgb, one
/// that exists and is not a regular file), an io_error naming the output when
/// it cannot be written
/// (before any work), cancelled after a stop request, or the first failed
/// band's status. The report has the image, the executor, the kernel and the
/// render and finish times.
result<core::report> run(const options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::jobs::mandelbrot
