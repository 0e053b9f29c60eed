// Writing the image: PNG through libspng (or raw RGB), streamed row by row into
// a core::atomic_file, renamed into place when complete.

#include <spng.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "scalekit/core/atomic_file.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::jobs::mandelbrot {

struct image_writer::state {
  std::string path;
  std::uint32_t width = 0, height = 0, rows_written = 0;
  bool raw = false;
  std::optional<core::atomic_file> out;  // the temporary, renamed into place by commit()
  spng_ctx* png = nullptr;

  ~state() {
    if (png != nullptr) spng_ctx_free(png);  // before `out` closes the file it writes to
  }
  status io_error(const std::string& what) const { return status::io_error("cannot write '" + path + "': " + what); }
  // spng's error `rc`; `err` is errno right after it: spng says only "stream
  // error" when the file's write failed, errno says why (a full disk).
  status encoder_error(int rc, int err) const {
    if (rc == SPNG_IO_ERROR && err != 0) return io_error(std::strerror(err));
    return io_error(std::string("PNG encoder: ") + spng_strerror(rc));
  }
};

image_writer::image_writer(std::unique_ptr<state> s) : s_(std::move(s)) {}
image_writer::~image_writer() = default;

const std::string& image_writer::temp_path() const noexcept { return s_->out->temp_path(); }

result<std::unique_ptr<image_writer>> image_writer::open(const std::string& path, std::uint32_t width,
                                                         std::uint32_t height, int png_level) {
  namespace fs = std::filesystem;
  auto st = std::make_unique<state>();
  st->path = path;
  st->width = width;
  st->height = height;
  const fs::path target(path);
  std::string ext = target.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  st->raw = ext == ".rgb";
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return st->io_error("no such directory '" + dir.string() + "'");
  if (fs::is_directory(target, ec)) return st->io_error("it is a directory");
  auto out = core::atomic_file::create(path);
  if (!out.ok()) return out.error();
  st->out.emplace(std::move(out).value());
  if (!st->raw) {
    st->png = spng_ctx_new(SPNG_CTX_ENCODER);
    if (st->png == nullptr) return status::internal("cannot create a PNG encoder");
    spng_ihdr ihdr{};
    ihdr.width = width;
    ihdr.height = height;
    ihdr.bit_depth = 8;
    ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
    int rc = spng_set_png_file(st->png, st->out->stream());
    if (rc == 0) rc = spng_set_ihdr(st->png, &ihdr);
    // No row filter: on these flat-banded fractal images it gives smaller files
    // than adaptive filtering, at a third of the cost (docs/BENCHMARKS.md).
    if (rc == 0) rc = spng_set_option(st->png, SPNG_IMG_COMPRESSION_LEVEL, std::clamp(png_level, 0, 9));
    if (rc == 0) rc = spng_set_option(st->png, SPNG_FILTER_CHOICE, SPNG_FILTER_CHOICE_NONE);
    errno = 0;
    if (rc == 0)
      rc = spng_encode_image(st->png, nullptr, 0, SPNG_FMT_PNG, SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);
    if (rc != 0) return st->encoder_error(rc, errno);
  }
  return std::unique_ptr<image_writer>(new image_writer(std::move(st)));
}

status image_writer::write_rows(const std::uint8_t* rgb, std::uint32_t rows) {
  state& st = *s_;
  if (rows > st.height - st.rows_written) return status::internal("image_writer: more rows than the image has");
  const std::size_t row_bytes = std::size_t{st.width} * 3;
  if (st.raw) {
    if (status s = st.out->write(rgb, row_bytes * rows); !s.ok()) return s;
  } else {
    for (std::uint32_t r = 0; r < rows; ++r) {
      errno = 0;
      const int rc = spng_encode_row(st.png, rgb + r * row_bytes, row_bytes);
      if (rc != 0 && rc != SPNG_EOI) return st.encoder_error(rc, errno);
    }
  }
  st.rows_written += rows;
  return {};
}

status image_writer::commit() {
  state& st = *s_;
  if (st.rows_written != st.height) return status::internal("image_writer: commit before the last row");
  if (st.png != nullptr) {
    spng_ctx_free(st.png);  // the last row finalized the stream (SPNG_ENCODE_FINALIZE)
    st.png = nullptr;
  }
  return st.out->commit();
}

result<std::string> encode_png(const image& img, int png_level) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  if (ctx == nullptr) return status::internal("cannot create a PNG encoder");
  spng_ihdr ihdr{};
  ihdr.width = img.width;
  ihdr.height = img.height;
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  int rc = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  if (rc == 0) rc = spng_set_ihdr(ctx, &ihdr);
  if (rc == 0) rc = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, std::clamp(png_level, 0, 9));
  if (rc == 0) rc = spng_set_option(ctx, SPNG_FILTER_CHOICE, SPNG_FILTER_CHOICE_NONE);
  if (rc == 0) rc = spng_encode_image(ctx, img.rgb.data(), img.rgb.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  std::string out;
  if (rc == 0) {
    std::size_t len = 0;
    int err = 0;
    void* buf = spng_get_png_buffer(ctx, &len, &err);
    rc = err;
    if (buf != nullptr) {
      out.assign(static_cast<const char*>(buf), len);
      std::free(buf);  // the encoder's buffer is ours now, allocated with malloc
    }
  }
  spng_ctx_free(ctx);
  if (rc != 0) return status::internal(std::string("PNG encoder: ") + spng_strerror(rc));
  return out;
}

status write_image(const image& img, const std::string& path) {
  auto w = image_writer::open(path, img.width, img.height);
  if (!w.ok()) return w.error();
  if (status s = (*w)->write_rows(img.rgb.data(), img.height); !s.ok()) return s;
  return (*w)->commit();
}

}  // namespace scalekit::jobs::mandelbrot
