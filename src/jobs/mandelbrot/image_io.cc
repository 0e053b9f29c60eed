// Writing the image: PNG through libspng, atomically (temporary file + rename).

#include <spng.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace scalekit::jobs::mandelbrot {

namespace {

struct spng_deleter {
  void operator()(spng_ctx* c) const { spng_ctx_free(c); }
};

status encode_png(const image& img, std::FILE* f) {
  std::unique_ptr<spng_ctx, spng_deleter> ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!ctx) return status::internal("cannot create a PNG encoder");
  spng_ihdr ihdr{};
  ihdr.width = img.width;
  ihdr.height = img.height;
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  int rc = spng_set_png_file(ctx.get(), f);
  // zlib level 6 (Pillow's default) with no row filter: on these flat-banded
  // fractal images that is both the smallest file and 3x faster than adaptive
  // filtering (measured in docs/BENCHMARKS.md).
  if (rc == 0) rc = spng_set_option(ctx.get(), SPNG_IMG_COMPRESSION_LEVEL, 6);
  if (rc == 0) rc = spng_set_option(ctx.get(), SPNG_FILTER_CHOICE, SPNG_FILTER_CHOICE_NONE);
  if (rc == 0) rc = spng_set_ihdr(ctx.get(), &ihdr);
  if (rc == 0) rc = spng_encode_image(ctx.get(), img.rgb.data(), img.rgb.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  if (rc != 0) return status::io_error(std::string("PNG encoding failed: ") + spng_strerror(rc));
  return {};
}

}  // namespace

status write_image(const image& img, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // Hidden temporary beside the target, so the final rename stays on one filesystem.
  fs::path tmp_name = target.filename();
  tmp_name += ".tmp-XXXXXX";
  std::string tmpl = (dir / tmp_name).string();
  tmpl.insert(tmpl.size() - tmp_name.string().size(), 1, '.');
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return status::io_error("cannot write '" + path + "': " + std::strerror(errno));
  std::FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return status::io_error("cannot write '" + path + "': " + std::strerror(errno));
  }
  status s;
  if (target.extension() == ".rgb") {
    if (std::fwrite(img.rgb.data(), 1, img.rgb.size(), f) != img.rgb.size())
      s = status::io_error("cannot write '" + path + "': " + std::strerror(errno));
  } else {
    s = encode_png(img, f);
  }
  if (std::fclose(f) != 0 && s.ok()) s = status::io_error("cannot write '" + path + "': " + std::strerror(errno));
  if (s.ok()) {
    // mkstemp makes 0600 files; give the image the usual permissions.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::chmod(tmpl.c_str(), 0666 & ~mask);
    if (::rename(tmpl.c_str(), path.c_str()) != 0)
      s = status::io_error("cannot write '" + path + "': " + std::strerror(errno));
  }
  if (!s.ok()) ::unlink(tmpl.c_str());
  return s;
}

}  // namespace scalekit::jobs::mandelbrot
