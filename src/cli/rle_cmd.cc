// scalekit rle compress | decompress | compress-dir: flags -> rle options -> the job.
// Built into both executables: scalekit reads 1-bit BMPs itself and hands a
// command whose images include any other kind over to scalekit-heavy, whose
// converter (libvips) reads them.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/rle/rle.h"

namespace scalekit::cli {

namespace {

namespace rle = jobs::rle;

struct compress_flags {
  rle::compress_options job;
  executor_flags rows;  // --row-executor, -j
};

struct decompress_flags {
  rle::decompress_options job;
};

struct compress_dir_flags {
  rle::compress_dir_options job;
  executor_flags images;  // --image-executor, -j
  executor_flags rows;    // --row-executor (its kind only: each image makes its own)
};

// Whether this executable lacks the converter that one of `images` needs.
bool needs_heavy(const std::vector<std::string>& images) {
  if (rle::has_converter()) return false;
  return std::any_of(images.begin(), images.end(), [](const std::string& p) { return rle::needs_converter(p); });
}

void add_row_executor(CLI::App& cmd, executor_flags& rows) {
  rows.executor = "threads";
  cmd.add_option("--row-executor", rows.executor, "where rows are encoded: serial, threads or processes")
      ->check(CLI::IsMember({"serial", "threads", "processes"}))
      ->capture_default_str();
}

void add_compress(CLI::App& cmd) {
  auto f = std::make_shared<compress_flags>();
  auto* sub = cmd.add_subcommand("compress", "Compress IN (a 1-bit BMP, or any image) into OUT");
  sub->add_option("in", f->job.input, "input image")->required();
  sub->add_option("out", f->job.output, "output .rle file")->required();
  add_row_executor(*sub, f->rows);
  sub->add_option("-j,--jobs", f->rows.jobs, "row workers (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  sub->callback([f] {
    if (needs_heavy({f->job.input})) {
      globals().exit_code = hand_over_to(binary::heavy);
      return;
    }
    run_job("rle compress", [f](core::observer& obs) {
      auto rows = f->rows.make();
      return rle::compress(f->job, *rows, obs);
    });
  });
}

void add_decompress(CLI::App& cmd) {
  auto f = std::make_shared<decompress_flags>();
  auto* sub = cmd.add_subcommand("decompress", "Decompress IN into a 1-bit BMP at OUT");
  sub->add_option("in", f->job.input, "input .rle file")->required();
  sub->add_option("out", f->job.output, "output .bmp")->required();
  sub->callback([f] { run_job("rle decompress", [f](core::observer& obs) { return rle::decompress(f->job, obs); }); });
}

void add_compress_dir(CLI::App& cmd) {
  auto f = std::make_shared<compress_dir_flags>();
  auto* sub = cmd.add_subcommand("compress-dir",
                                 "Compress every .bmp of IN_DIR into OUT_DIR/<name>.rle (nested pools); when two names "
                                 "clash (a.bmp, a.BMP) the second keeps its whole name, a.bmp.rle, as thumbnail does");
  sub->add_option("in", f->job.input_dir, "directory of .bmp images")->required();
  sub->add_option("out", f->job.output_dir, "output directory (created)")->required();
  f->images.executor = "processes";
  sub->add_option("--image-executor", f->images.executor, "where images are compressed: threads or processes")
      ->check(CLI::IsMember({"threads", "processes"}))
      ->capture_default_str();
  sub->add_option("-j,--jobs", f->images.jobs, "images at once (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  add_row_executor(*sub, f->rows);
  sub->add_option("--row-jobs", f->job.row_jobs, "row workers inside each image (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  sub->callback([f] {
    if (auto images = rle::dir_images(f->job.input_dir); images.ok() && needs_heavy(*images)) {
      globals().exit_code = hand_over_to(binary::heavy);
      return;
    }
    run_job("rle compress-dir", [f](core::observer& obs) {
      f->job.row_executor = f->rows.kind();
      auto images = f->images.make();
      return rle::compress_dir(f->job, *images, obs);
    });
  });
}

void add_command(CLI::App& command) {
  command.require_subcommand(1);
  command.footer(
      "Format: 2-byte little-endian width and height, then each row's 127-bit chunks as runs "
      "(bit << 7) | length; 1 = white. 1-bit BMPs are taken as they are; other images are made grey "
      "and thresholded at 128 (by scalekit-heavy, which libvips' start makes slower).");
  add_compress(command);
  add_decompress(command);
  add_compress_dir(command);
}

const command_registration registered{{"rle", add_command, rle::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
