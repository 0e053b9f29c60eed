// scalekit rle compress | decompress | compress-dir: the seed's RLE case study.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/jobs/rle/rle.h"

namespace scalekit::cli {

namespace {

namespace rle = jobs::rle;
namespace fs = std::filesystem;

struct rle_options {
  std::string in, out;
  executor_flags rows;    // --row-executor
  executor_flags images;  // --image-executor (compress-dir)
  std::size_t row_jobs = 0;
};

std::uint64_t file_size(const std::string& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

int run_compress(const rle_options& o) {
  auto rows = o.rows.make();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = rle::compress_file(o.in, o.out, *rows);
  rows->close();
  if (!r.ok()) throw std::runtime_error(r.error().message());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const std::uint64_t in_bytes = file_size(o.in);
  print_summary("rle compress",
                fmt::format("{} ({}x{}, {} bytes) -> {} ({} bytes)", o.in, r->width, r->height, in_bytes, o.out,
                            r->rle_bytes),
                elapsed, static_cast<double>(r->pixels()), "pixels",
                fmt::format("rows on {} -j {}", o.rows.executor, rows->concurrency()));
  if (globals().json)
    std::printf("%s\n", nlohmann::json{{"job", "rle compress"},
                                       {"width", r->width},
                                       {"height", r->height},
                                       {"input_bytes", in_bytes},
                                       {"output_bytes", r->rle_bytes},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  return exit_ok;
}

int run_decompress(const rle_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = rle::decompress_file(o.in, o.out);
  if (!r.ok()) throw std::runtime_error(r.error().message());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  print_summary("rle decompress",
                fmt::format("{} ({} bytes) -> {} ({}x{})", o.in, r->rle_bytes, o.out, r->width, r->height), elapsed,
                static_cast<double>(r->pixels()), "pixels", "");
  if (globals().json)
    std::printf("%s\n", nlohmann::json{{"job", "rle decompress"},
                                       {"width", r->width},
                                       {"height", r->height},
                                       {"input_bytes", r->rle_bytes},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  return exit_ok;
}

int run_compress_dir(const rle_options& o) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(o.in, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (e.is_regular_file() && ext == ".bmp") files.push_back(e.path());
  }
  if (ec) throw std::runtime_error("cannot read '" + o.in + "': " + ec.message());
  std::sort(files.begin(), files.end());
  fs::create_directories(o.out, ec);
  if (ec) throw std::runtime_error("cannot create '" + o.out + "': " + ec.message());

  auto images = o.images.make();
  const std::size_t row_jobs = o.row_jobs == 0 ? core::default_jobs() : o.row_jobs;
  std::vector<core::bytes> payloads;
  for (const auto& f : files)
    payloads.push_back(
        rle::encode_file_call(f.string(), (fs::path(o.out) / f.stem()).string() + ".rle", o.rows.kind(), row_jobs));
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t done = 0, failed = 0, in_bytes = 0, out_bytes = 0, pixels = 0;
  progress_line progress("rle compress-dir");
  images->map_streaming(rle::file_task, std::move(payloads), [&](std::size_t i, result<core::bytes>& r) {
    if (!r.ok()) {
      ++failed;
      print_error("rle compress-dir", files[i].string() + ": " + r.error().message());
    } else {
      ++done;
      const auto st = rle::decode_file_result(r.value());
      in_bytes += file_size(files[i].string());
      out_bytes += st.rle_bytes;
      pixels += st.pixels();
    }
    progress.update(done + failed, files.size(), "images");
  });
  progress.finish();
  images->close();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  print_summary("rle compress-dir",
                fmt::format("{} images compressed ({} pixels, {} bytes -> {} bytes), {} failed", done, pixels, in_bytes,
                            out_bytes, failed),
                elapsed, static_cast<double>(pixels), "pixels",
                fmt::format("images on {} -j {}, rows on {} -j {}", o.images.executor, images->concurrency(),
                            o.rows.executor, row_jobs));
  if (globals().json)
    std::printf("%s\n", nlohmann::json{{"job", "rle compress-dir"},
                                       {"images", done},
                                       {"failed", failed},
                                       {"pixels", pixels},
                                       {"input_bytes", in_bytes},
                                       {"output_bytes", out_bytes},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  return failed > 0 ? exit_failed : exit_ok;
}

void add_row_executor(CLI::App& cmd, rle_options& o) {
  o.rows.executor = "threads";
  cmd.add_option("--row-executor", o.rows.executor, "where rows are encoded: serial, threads or processes")
      ->check(CLI::IsMember({"serial", "threads", "processes"}))
      ->capture_default_str();
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto* cmd = &command;
  cmd->require_subcommand(1);
  cmd->footer(
      "Format: 2-byte little-endian width and height, then each row's 127-bit chunks as runs "
      "(bit << 7) | length; 1 = white. 1-bit BMPs are taken as they are; other images are made grey "
      "and thresholded at 128.");

  auto c = std::make_shared<rle_options>();
  auto* compress = cmd->add_subcommand("compress", "Compress IN (a 1-bit BMP, or any image) into OUT");
  compress->add_option("in", c->in, "input image")->required();
  compress->add_option("out", c->out, "output .rle file")->required();
  add_row_executor(*compress, *c);
  compress->add_option("-j,--jobs", c->rows.jobs, "row workers (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  compress->callback([c] { run_job("rle compress", [&] { return run_compress(*c); }); });

  auto d = std::make_shared<rle_options>();
  auto* decompress = cmd->add_subcommand("decompress", "Decompress IN into a 1-bit BMP at OUT");
  decompress->add_option("in", d->in, "input .rle file")->required();
  decompress->add_option("out", d->out, "output .bmp")->required();
  decompress->callback([d] { run_job("rle decompress", [&] { return run_decompress(*d); }); });

  auto g = std::make_shared<rle_options>();
  auto* dir =
      cmd->add_subcommand("compress-dir", "Compress every .bmp of IN_DIR into OUT_DIR/<name>.rle (nested pools)");
  dir->add_option("in", g->in, "directory of .bmp images")->required();
  dir->add_option("out", g->out, "output directory (created)")->required();
  g->images.executor = "processes";
  dir->add_option("--image-executor", g->images.executor, "where images are compressed: threads or processes")
      ->check(CLI::IsMember({"threads", "processes"}))
      ->capture_default_str();
  dir->add_option("-j,--jobs", g->images.jobs, "images at once (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  add_row_executor(*dir, *g);
  dir->add_option("--row-jobs", g->row_jobs, "row workers inside each image (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  dir->callback([g] { run_job("rle compress-dir", [&] { return run_compress_dir(*g); }); });
}

const command_registration registered{{"rle", add_command, jobs::rle::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
