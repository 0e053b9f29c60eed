// scalekit mandelbrot: the seed's Mandelbrot image on any executor, distributed included.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::cli {

namespace {

namespace mb = jobs::mandelbrot;

struct mandelbrot_options {
  long long width = 640, height = 480, iterations = 1000;
  std::string output = "mandelbrot.png";
  std::string kernel = "simd";
  std::uint32_t rows_per_task = 0;
  bool no_shortcut = false;
  int png_level = mb::image_writer::default_png_level;
  executor_flags exec;
};

std::uint32_t checked_dimension(long long v, const char* what) {
  if (v < 1) throw usage_error(fmt::format("{} must be at least 1, not {}", what, v));
  if (v > static_cast<long long>(mb::max_side))
    throw usage_error(fmt::format("{} {} is too large (at most {})", what, v, mb::max_side));
  return static_cast<std::uint32_t>(v);
}

int run(const mandelbrot_options& o) {
  mb::params p;
  p.width = checked_dimension(o.width, "width (-W)");
  p.height = checked_dimension(o.height, "height (-H)");
  if (o.iterations < 1 || o.iterations > 100'000'000)
    throw usage_error(fmt::format("iterations (-n) must be between 1 and 100000000, not {}", o.iterations));
  p.max_iterations = static_cast<std::uint32_t>(o.iterations);
  p.shortcut = !o.no_shortcut;
  if (status s = mb::validate(p); !s.ok()) throw usage_error(s.message());
  // Open the output first: a bad path fails before the work, not after it.
  auto writer = mb::image_writer::open(o.output, p.width, p.height, o.png_level);
  if (!writer.ok()) throw std::runtime_error(writer.error().message());
  remove_on_signal((*writer)->temp_path());

  mb::render_options ro;
  ro.kernel = *mb::parse_kernel(o.kernel);
  ro.rows_per_task = o.rows_per_task;
  progress_line progress("mandelbrot");
  ro.progress = [&](std::uint32_t done, std::uint32_t total) { progress.update(done, total, "rows"); };
  // Rows are compressed into the file as soon as the finished prefix grows,
  // overlapping the PNG encoder with the rendering; the image is never held whole.
  const mb::row_sink sink = [&](std::uint32_t, const std::uint8_t* rgb, std::uint32_t rows) {
    return (*writer)->write_rows(rgb, rows);
  };

  auto ex = o.exec.make();
  const auto t0 = std::chrono::steady_clock::now();
  const status rendered = mb::render_to(p, *ex, sink, ro);
  progress.finish();
  if (!rendered.ok()) throw std::runtime_error(rendered.message());
  const auto t_render = std::chrono::steady_clock::now();
  if (status s = (*writer)->commit(); !s.ok()) throw std::runtime_error(s.message());
  remove_on_signal("");
  const auto t_end = std::chrono::steady_clock::now();
  ex->close();

  const auto& st = ex->get_stats();
  const double pixels = static_cast<double>(p.width) * p.height;
  const std::string kernel_name =
      ro.kernel == mb::kernel_kind::simd ? "simd/" + mb::simd_target_name() : std::string("scalar");
  const std::string details =
      fmt::format("{} -j {}, {} kernel{}, {} tasks, {}; render+encode {:.3f} s, finish {:.3f} s", o.exec.executor,
                  ex->concurrency(), kernel_name, p.shortcut ? "" : " (no shortcut)", st.completed.load(),
                  st.latency_summary(), std::chrono::duration<double>(t_render - t0).count(),
                  std::chrono::duration<double>(t_end - t_render).count());
  if (st.retried.load() > 0 || st.workers_replaced.load() > 0)
    spdlog::warn("mandelbrot: {} calls ran again after their worker died; {} workers replaced", st.retried.load(),
                 st.workers_replaced.load());
  print_summary("mandelbrot", fmt::format("{}x{} n={} -> {}", p.width, p.height, p.max_iterations, o.output),
                t_end - t0, pixels, "pixels", details);
  if (globals().json) {
    nlohmann::json j = {{"job", "mandelbrot"},
                        {"width", p.width},
                        {"height", p.height},
                        {"max_iterations", p.max_iterations},
                        {"output", o.output},
                        {"executor", o.exec.executor},
                        {"jobs", ex->concurrency()},
                        {"kernel", kernel_name},
                        {"shortcut", p.shortcut},
                        {"tasks", st.completed.load()},
                        {"failed", st.failed.load()},
                        {"elapsed_s", std::chrono::duration<double>(t_end - t0).count()},
                        {"render_s", std::chrono::duration<double>(t_render - t0).count()},
                        {"pixels_per_s", pixels / std::chrono::duration<double>(t_end - t0).count()},
                        {"task_p50_s", std::chrono::duration<double>(st.service_time.percentile(0.5)).count()},
                        {"task_p99_s", std::chrono::duration<double>(st.service_time.percentile(0.99)).count()}};
    std::printf("%s\n", j.dump().c_str());
  }
  return exit_ok;
}

}  // namespace

void add_mandelbrot_command(CLI::App& app) {
  auto o = std::make_shared<mandelbrot_options>();
  auto* cmd = app.add_subcommand("mandelbrot", "Draw the Mandelbrot set (the seed's image) as a PNG");
  cmd->add_option("-W,--width", o->width, "image width in pixels")->capture_default_str();
  cmd->add_option("-H,--height", o->height, "image height in pixels")->capture_default_str();
  cmd->add_option("-n,--niter", o->iterations, "maximum iterations per pixel")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "output file: .png, or .rgb for raw RGB bytes")->capture_default_str();
  cmd->add_option("--kernel", o->kernel, "simd (vectorized, chosen for this CPU) or scalar; both draw the same pixels")
      ->check(CLI::IsMember({"simd", "scalar"}))
      ->capture_default_str();
  cmd->add_option("--png-level", o->png_level, "zlib level of the PNG, 0 (fastest) to 9 (smallest)")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  cmd->add_flag("--no-shortcut", o->no_shortcut,
                "iterate every pixel to the end as the seed does (no cardioid/bulb test); same pixels, more work");
  cmd->add_option("--rows-per-task", o->rows_per_task, "rows in one task (default: automatic)")
      ->check(CLI::Range(1u, 1u << 20));
  o->exec.add_to(*cmd, "serial,threads,processes,openmp,distributed", "threads");
  cmd->callback([o] { run_job("mandelbrot", [&] { return run(*o); }); });
}

}  // namespace scalekit::cli
