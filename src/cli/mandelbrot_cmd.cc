// scalekit mandelbrot: flags -> mandelbrot::options -> the job.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <vector>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::cli {

namespace {

namespace mb = jobs::mandelbrot;

struct mandelbrot_flags {
  long long width = 640, height = 480, iterations = 1000;
  std::string kernel = "simd";
  mb::options job;
  bool no_shortcut = false;
  std::vector<double> region;  // x0, y0, x1, y1
  executor_flags exec;
};

std::uint32_t checked_dimension(long long v, const char* what) {
  if (v < 1) throw usage_error(fmt::format("{} must be at least 1, not {}", what, v));
  if (v > static_cast<long long>(mb::max_side))
    throw usage_error(fmt::format("{} {} is too large (at most {})", what, v, mb::max_side));
  return static_cast<std::uint32_t>(v);
}

result<core::report> run(mandelbrot_flags& f, core::observer& obs) {
  f.job.image.width = checked_dimension(f.width, "width (-W)");
  f.job.image.height = checked_dimension(f.height, "height (-H)");
  if (f.iterations < 1 || f.iterations > 100'000'000)
    throw usage_error(fmt::format("iterations (-n) must be between 1 and 100000000, not {}", f.iterations));
  f.job.image.max_iterations = static_cast<std::uint32_t>(f.iterations);
  f.job.image.shortcut = !f.no_shortcut;
  f.job.kernel = *mb::parse_kernel(f.kernel);
  if (!f.region.empty()) {
    f.job.image.x0 = f.region[0];
    f.job.image.y0 = f.region[1];
    f.job.image.x1 = f.region[2];
    f.job.image.y1 = f.region[3];
  }
  auto ex = f.exec.make();
  return mb::run(f.job, *ex, obs);
}

void add_command(CLI::App& command) {
  auto f = std::make_shared<mandelbrot_flags>();
  auto* cmd = &command;
  cmd->add_option("-W,--width", f->width, "image width in pixels")->capture_default_str();
  cmd->add_option("-H,--height", f->height, "image height in pixels")->capture_default_str();
  cmd->add_option("-n,--niter", f->iterations, "maximum iterations per pixel")->capture_default_str();
  cmd->add_option("-o,--output", f->job.output,
                  "output file: .png, or .rgb for raw RGB bytes (other extensions are refused)")
      ->capture_default_str();
  cmd->add_option("--kernel", f->kernel, "simd (vectorized, chosen for this CPU) or scalar; both draw the same pixels")
      ->check(CLI::IsMember({"simd", "scalar"}))
      ->capture_default_str();
  cmd->add_option("--png-level", f->job.png_level, "zlib level of the PNG, 0 (fastest) to 9 (smallest)")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  cmd->add_flag("--no-shortcut", f->no_shortcut,
                "iterate every pixel to the end as the seed does (no cardioid/bulb test); same pixels, more work");
  cmd->add_option("--region", f->region,
                  "the region of the plane, X0,Y0,X1,Y1 (default: the seed's -2.5,-1,1,1): pixel (x, y) is "
                  "c = (X0 + x*(X1-X0)/W) + (Y0 + y*(Y1-Y0)/H)i")
      ->delimiter(',')
      ->expected(4);
  cmd->add_option("--rows-per-task", f->job.rows_per_task, "rows in one task (default: automatic)")
      ->check(CLI::Range(1u, 1u << 20));
  f->exec.add_to(*cmd, "serial,threads,processes,openmp,distributed", "threads");
  cmd->callback([f] { run_job("mandelbrot", [f](core::observer& obs) { return run(*f, obs); }); });
}

void register_tasks() {
  mb::register_tasks();
  mb::register_celery_tasks();  // served by `scalekit worker`, and run on worker processes
}

const command_registration registered{{"mandelbrot", add_command, register_tasks}};

}  // namespace

}  // namespace scalekit::cli
