// scalekit mandelbrot: the seed's Mandelbrot image on any local executor.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
  executor_flags exec;
};

std::uint32_t checked_dimension(long long v, const char* what) {
  if (v < 1) throw usage_error(fmt::format("{} must be at least 1, not {}", what, v));
  if (v > static_cast<long long>(mb::max_side))
    throw usage_error(fmt::format("{} {} is too large (at most {})", what, v, mb::max_side));
  return static_cast<std::uint32_t>(v);
}

// Fail before the work, not after it: the output's directory must exist and be writable.
void check_output_writable(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(fmt::format("cannot write '{}': no such directory '{}'", path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error(fmt::format("cannot write '{}': directory '{}' is not writable", path, dir.string()));
  if (fs::is_directory(p, ec)) throw std::runtime_error(fmt::format("cannot write '{}': it is a directory", path));
}

int run(const mandelbrot_options& o) {
  mb::params p;
  p.width = checked_dimension(o.width, "width (-W)");
  p.height = checked_dimension(o.height, "height (-H)");
  if (o.iterations < 1 || o.iterations > 100'000'000)
    throw usage_error(fmt::format("iterations (-n) must be between 1 and 100000000, not {}", o.iterations));
  p.max_iterations = static_cast<std::uint32_t>(o.iterations);
  if (status s = mb::validate(p); !s.ok()) throw usage_error(s.message());
  check_output_writable(o.output);

  mb::render_options ro;
  ro.kernel = *mb::parse_kernel(o.kernel);
  ro.rows_per_task = o.rows_per_task;
  progress_line progress("mandelbrot");
  ro.progress = [&](std::uint32_t done, std::uint32_t total) { progress.update(done, total, "rows"); };

  auto ex = o.exec.make();
  const auto t0 = std::chrono::steady_clock::now();
  auto img = mb::render(p, *ex, ro);
  progress.finish();
  if (!img.ok()) throw std::runtime_error(img.error().message());
  const auto t_render = std::chrono::steady_clock::now();
  if (status s = mb::write_image(img.value(), o.output); !s.ok()) throw std::runtime_error(s.message());
  const auto t_end = std::chrono::steady_clock::now();
  ex->close();

  const auto& st = ex->get_stats();
  const double pixels = static_cast<double>(p.width) * p.height;
  const std::string kernel_name =
      ro.kernel == mb::kernel_kind::simd ? "simd/" + mb::simd_target_name() : std::string("scalar");
  const std::string details = fmt::format("{} -j {}, {} kernel, {} tasks, {}; render {:.3f} s, write {:.3f} s",
                                          o.exec.executor, ex->concurrency(), kernel_name, st.completed.load(),
                                          st.latency_summary(),
                                          std::chrono::duration<double>(t_render - t0).count(),
                                          std::chrono::duration<double>(t_end - t_render).count());
  print_summary("mandelbrot", fmt::format("{}x{} n={} -> {}", p.width, p.height, p.max_iterations, o.output),
                t_end - t0, pixels, "pixels", details);
  if (globals().json) {
    nlohmann::json j = {
        {"job", "mandelbrot"}, {"width", p.width}, {"height", p.height}, {"max_iterations", p.max_iterations},
        {"output", o.output}, {"executor", o.exec.executor}, {"jobs", ex->concurrency()},
        {"kernel", kernel_name}, {"tasks", st.completed.load()}, {"failed", st.failed.load()},
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
  cmd->add_option("--rows-per-task", o->rows_per_task, "rows in one task (default: automatic)")
      ->check(CLI::Range(1u, 1u << 20));
  o->exec.add_to(*cmd, "serial,threads,processes,openmp", "threads");
  cmd->callback([o] { run_job("mandelbrot", [&] { return run(*o); }); });
}

}  // namespace scalekit::cli
