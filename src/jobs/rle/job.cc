// The RLE job's entries: compress, decompress and compress_dir, from options
// to files and a report; and the file task that carries compress_dir's images
// to the image executor.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "rle/tasks.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/input_file.h"
#include "scalekit/core/job.h"
#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/rle/rle.h"

namespace scalekit::jobs::rle {

namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

// ---- The file task: one image of compress_dir, with a row executor of its own.

std::string encode_file_call(const std::string& in, const std::string& out, core::executor_kind row_kind,
                             std::size_t row_jobs) {
  return core::wire_writer()
      .put_string(in)
      .put_string(out)
      .put(static_cast<std::uint8_t>(row_kind))
      .put<std::uint64_t>(row_jobs)
      .take();
}

core::bytes file_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const std::string src(in.get_string()), dst(in.get_string());
  const auto kind = static_cast<core::executor_kind>(in.get<std::uint8_t>());
  const auto jobs = in.get<std::uint64_t>();
  in.expect_end();
  core::executor_options eo;
  eo.jobs = jobs;
  auto rows = core::make_executor(kind, eo);  // the seed's pool inside the pool
  auto r = compress_file(src, dst, *rows);
  rows->close();
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return core::wire_writer().put(r->width).put(r->height).put(r->rle_bytes).take();
}

file_stats decode_file_result(std::string_view bytes) {
  core::wire_reader in(bytes);
  file_stats st;
  st.width = in.get<std::uint32_t>();
  st.height = in.get<std::uint32_t>();
  st.rle_bytes = in.get<std::uint64_t>();
  in.expect_end();
  return st;
}

status stopped() { return status::cancelled("stopped before the end"); }

// Each image's output, named as thumbnail names its own: "a.bmp" -> "a.rle",
// and when that is taken (a.BMP and a.bmp) the whole name, "a.bmp.rle".
// Empty when even that is taken: the image is refused, not written over
// another's output.
std::vector<std::string> output_names(const std::vector<std::string>& files, const std::string& out_dir) {
  std::vector<std::string> names;
  std::set<std::string> taken;
  for (const auto& file : files) {
    const fs::path f(file);
    std::string out = (fs::path(out_dir) / f.stem()).string() + ".rle";
    if (!taken.insert(out).second) {
      out = (fs::path(out_dir) / f.filename()).string() + ".rle";
      if (!taken.insert(out).second) out.clear();
    }
    names.push_back(std::move(out));
  }
  return names;
}

}  // namespace

result<std::vector<std::string>> dir_images(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (e.is_regular_file() && ext == ".bmp") files.push_back(e.path().string());
  }
  if (ec) return status::io_error("cannot read '" + dir + "': " + core::path_error_words(ec.value()));
  std::sort(files.begin(), files.end());
  return files;
}

result<core::report> compress(const compress_options& o, core::executor& rows, core::observer& obs) {
  const core::cancel_on_stop stop_guard(rows, obs);
  const auto t0 = clock::now();
  auto r = compress_file(o.input, o.output, rows);
  if (!r.ok()) return obs.stop_requested() ? stopped() : r.error();  // the output's temporary is gone
  const auto elapsed = clock::now() - t0;
  const std::uint64_t in_bytes = file_size(o.input);

  core::report rep("rle compress");
  rep.work = o.input + " (" + std::to_string(r->width) + "x" + std::to_string(r->height) + ", " +
             std::to_string(in_bytes) + " bytes) -> " + o.output + " (" + std::to_string(r->rle_bytes) + " bytes)";
  rep.elapsed = elapsed;
  rep.items = static_cast<double>(r->pixels());
  rep.unit = "pixels";
  // The head says these.
  rep.add("width", std::uint64_t{r->width}, "");
  rep.add("height", std::uint64_t{r->height}, "");
  rep.add("input_bytes", in_bytes, "");
  rep.add("output_bytes", r->rle_bytes, "");
  core::add_executor_fields(rep, rows);
  rep.add("executor", std::string(core::to_string(rows.kind())), "rows on {}");
  return rep;
}

result<core::report> decompress(const decompress_options& o, core::observer& obs) {
  if (obs.stop_requested()) return stopped();
  const auto t0 = clock::now();
  auto r = decompress_file(o.input, o.output);
  if (!r.ok()) return r.error();
  const auto elapsed = clock::now() - t0;

  core::report rep("rle decompress");
  rep.work = o.input + " (" + std::to_string(r->rle_bytes) + " bytes) -> " + o.output + " (" +
             std::to_string(r->width) + "x" + std::to_string(r->height) + ")";
  rep.elapsed = elapsed;
  rep.items = static_cast<double>(r->pixels());
  rep.unit = "pixels";
  // The head says these.
  rep.add("width", std::uint64_t{r->width}, "");
  rep.add("height", std::uint64_t{r->height}, "");
  rep.add("input_bytes", r->rle_bytes, "");
  return rep;
}

result<core::report> compress_dir(const compress_dir_options& o, core::executor& images, core::observer& obs) {
  if (o.row_executor == core::executor_kind::distributed)
    return status::invalid_argument("rows cannot be encoded on the distributed executor inside an image's call");
  if (status s = core::check_output_dir(o.output_dir); !s.ok()) return s;
  const auto t0 = clock::now();
  auto files = dir_images(o.input_dir);
  if (!files.ok()) return files.error();
  std::error_code ec;
  fs::create_directories(o.output_dir, ec);
  if (ec) return status::io_error("cannot create '" + o.output_dir + "': " + ec.message());

  const bool serial_rows = o.row_executor == core::executor_kind::serial;
  const std::size_t row_jobs = serial_rows ? 1 : o.row_jobs == 0 ? core::default_jobs() : o.row_jobs;
  std::vector<core::bytes> payloads;
  payloads.reserve(files->size());
  const auto outs = output_names(*files, o.output_dir);
  std::uint64_t failed = 0;
  std::vector<std::string> kept;  // the images that have an output of their own, in payload order
  for (std::size_t i = 0; i < files->size(); ++i) {
    const std::string &in = (*files)[i], &out = outs[i];
    if (out.empty()) {
      ++failed;
      obs.message(in + ": its output names are taken by other images of '" + o.input_dir + "'; not compressed");
      continue;
    }
    kept.push_back(in);
    // An output that is an image of the input directory (a link to it) is
    // refused before any image is written.
    const std::string inputs[] = {in};
    if (status s = core::check_output(out, inputs); !s.ok()) return s;
    payloads.push_back(encode_file_call(in, out, o.row_executor, row_jobs));
  }
  const core::cancel_on_stop stop_guard(images, obs);
  std::uint64_t done = 0, in_bytes = 0, out_bytes = 0, pixels = 0;
  images.map_streaming(detail::file_task, std::move(payloads), [&](std::size_t i, result<core::bytes>& r) {
    const std::string& path = kept[i];
    if (!r.ok()) {
      if (obs.stop_requested()) return;  // cancelled, not failed
      ++failed;
      obs.message(path + ": " + r.error().message());
    } else {
      ++done;
      const file_stats st = decode_file_result(r.value());
      in_bytes += file_size(path);
      out_bytes += st.rle_bytes;
      pixels += st.pixels();
    }
    obs.progress(done + failed, files->size(), "images");
  });
  if (obs.stop_requested()) return stopped();

  core::report rep("rle compress-dir");
  rep.work = std::to_string(done) + " images compressed (" + std::to_string(pixels) + " pixels, " +
             std::to_string(in_bytes) + " bytes -> " + std::to_string(out_bytes) + " bytes), " +
             std::to_string(failed) + " failed";
  rep.elapsed = clock::now() - t0;
  rep.items = static_cast<double>(pixels);
  rep.unit = "pixels";
  rep.failures = failed;
  // The head says these.
  rep.add("images", done, "");
  rep.add("failed", failed, "");
  rep.add("pixels", pixels, "");
  rep.add("input_bytes", in_bytes, "");
  rep.add("output_bytes", out_bytes, "");
  core::add_executor_fields(rep, images);
  rep.add("executor", std::string(core::to_string(images.kind())), "images on {}");
  rep.add("row_executor", std::string(core::to_string(o.row_executor)), "rows on {}");
  rep.add("row_jobs", std::uint64_t{row_jobs}, serial_rows ? "" : "-j {}");  // serial: one thread, said
  return rep;
}

void register_tasks() {
  detail::register_rows_task();
  core::task_registry::global().add(detail::file_task, file_task_body);
}

}  // namespace scalekit::jobs::rle
