// mandelbrot::run: the job's one entry, from options to a written image and a report.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "scalekit/core/executor.h"
#include "scalekit/core/input_file.h"
#include "scalekit/core/job.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::jobs::mandelbrot {

result<core::report> run(const options& o, core::executor& ex, core::observer& obs) {
  // A size the job refuses is a bad option, whatever the reason.
  if (status s = validate(o.image); !s.ok()) return status::invalid_argument(s.message());
  if (o.png_level < 0 || o.png_level > 9)
    return status::invalid_argument("PNG level " + std::to_string(o.png_level) + " is not in 0..9");
  // The extension says the format: PNG bytes in a .jpg would be a lie.
  std::string ext = std::filesystem::path(o.output).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".png" && ext != ".rgb")
    return status::invalid_argument("'" + o.output + "': mandelbrot writes PNG (.png) or raw RGB (.rgb), not " +
                                    (ext.empty() ? std::string("a file without extension") : "'" + ext + "'"));
  if (status s = core::check_output(o.output); !s.ok()) return s;  // not over a device, a FIFO, a directory
  const params& p = o.image;
  // Open the output first: a bad path fails before the work, not after it.
  auto writer = image_writer::open(o.output, p.width, p.height, o.png_level);
  if (!writer.ok()) return writer.error();
  const core::cancel_on_stop stop_guard(ex, obs);

  render_options ro;
  ro.kernel = o.kernel;
  ro.rows_per_task = o.rows_per_task;
  ro.progress = [&](std::uint32_t done, std::uint32_t total) { obs.progress(done, total, "rows"); };
  // Rows are compressed into the file as soon as the finished prefix grows,
  // overlapping the PNG encoder with the rendering; the image is never held whole.
  const row_sink sink = [&](std::uint32_t, const std::uint8_t* rgb, std::uint32_t rows) {
    return (*writer)->write_rows(rgb, rows);
  };
  const auto t0 = std::chrono::steady_clock::now();
  if (status s = render_to(p, ex, sink, ro); !s.ok()) return s;  // the writer removes its temporary
  const auto t_render = std::chrono::steady_clock::now();
  if (status s = (*writer)->commit(); !s.ok()) return s;
  const auto t_end = std::chrono::steady_clock::now();

  core::report r("mandelbrot");
  r.work = std::to_string(p.width) + "x" + std::to_string(p.height) + " n=" + std::to_string(p.max_iterations) +
           " -> " + o.output;
  r.elapsed = t_end - t0;
  r.items = static_cast<double>(p.width) * p.height;
  r.unit = "pixels";
  // The head says these.
  r.add("width", std::uint64_t{p.width}, "");
  r.add("height", std::uint64_t{p.height}, "");
  r.add("max_iterations", std::uint64_t{p.max_iterations}, "");
  r.add("output", o.output, "");
  if (!p.default_region()) {
    r.add("x0", p.x0, "region x {}");
    r.add("x1", p.x1, ".. {}");
    r.add("y0", p.y0, "y {}");
    r.add("y1", p.y1, ".. {}");
  }
  core::add_executor_fields(r, ex);
  r.add("kernel", o.kernel == kernel_kind::simd ? "simd/" + simd_target_name() : std::string("scalar"), "{} kernel");
  r.add("shortcut", p.shortcut, p.shortcut ? "" : "no shortcut");
  r.add("failed", ex.get_stats().failed.load(), "");
  r.add("render_s", std::chrono::nanoseconds(t_render - t0), "render+encode {}");
  r.add("finish_s", std::chrono::nanoseconds(t_end - t_render), "finish {}");
  return r;
}

}  // namespace scalekit::jobs::mandelbrot
