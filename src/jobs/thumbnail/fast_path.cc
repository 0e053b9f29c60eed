// The fast path: sniff, decode scaled (jpeg_decode, png_decode, webp_decode), resize,
// turn upright, encode the PNG with libspng, write it atomically.

#include "fast_path.h"

#include <malloc.h>
#include <spng.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "cmyk.h"
#include "jpeg_decode.h"
#include "png_decode.h"
#include "resize.h"
#include "scalekit/core/atomic_file.h"
#include "webp_decode.h"

namespace scalekit::jobs::thumbnail::detail {

namespace {

// Larger files go to libvips, which streams them.
constexpr std::size_t max_read = std::size_t{256} << 20;
constexpr std::size_t keep_bytes = std::size_t{64} << 20;

struct free_ctx {
  void operator()(spng_ctx* c) const { spng_ctx_free(c); }
};

// The PNG file of `r`, as libvips writes a thumbnail (deflate level 6, no
// row filter); empty on failure.
std::string encode_png(const raster& r) {
  std::unique_ptr<spng_ctx, free_ctx> ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!ctx) return {};
  spng_ihdr ihdr{};
  ihdr.width = r.width;
  ihdr.height = r.height;
  ihdr.bit_depth = 8;
  ihdr.color_type = r.channels == 3 ? SPNG_COLOR_TYPE_TRUECOLOR : SPNG_COLOR_TYPE_GRAYSCALE;
  int rc = spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  if (rc == 0) rc = spng_set_ihdr(ctx.get(), &ihdr);
  if (rc == 0) rc = spng_set_option(ctx.get(), SPNG_IMG_COMPRESSION_LEVEL, 6);
  if (rc == 0) rc = spng_set_option(ctx.get(), SPNG_FILTER_CHOICE, SPNG_FILTER_CHOICE_NONE);
  if (rc == 0) rc = spng_encode_image(ctx.get(), r.data.data(), r.data.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  if (rc != 0) return {};
  std::size_t size = 0;
  int err = 0;
  void* png = spng_get_png_buffer(ctx.get(), &size, &err);
  if (png == nullptr || err != 0) return {};
  std::string out(static_cast<const char*>(png), size);
  std::free(png);
  return out;
}

// glibc's malloc hands memory back to the kernel as soon as the top of a heap
// is free past a threshold that adapts to the largest block freed, and
// serves the larger blocks with mmap: every image's decoder buffers (libjpeg
// allocates and frees its own per image) then cost fresh page faults and an
// madvise or munmap each. Fixed thresholds keep them in the heap, for the
// process's lifetime: a quarter fewer page faults over the mixed benchmark
// corpus on one thread (8,355 -> 6,330) and 1-6% less CPU (perf stat, runs
// apart). Blocks over 32 MiB are still mapped and given back whole.
void keep_freed_memory() {
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    return true;
  }();
  (void)once;
}

}  // namespace

status write_whole(const std::string& out, const void* data, std::size_t size) {
  std::error_code ec;
  const auto parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto file = core::atomic_file::create(out);
  if (!file.ok()) return status::io_error("cannot write: " + file.error().message());
  if (status s = file->write(data, size); !s.ok()) return status::io_error("cannot write: " + s.message());
  if (status s = file->commit(); !s.ok()) return status::io_error("cannot write: " + s.message());
  return {};
}

std::optional<report> fast_from_buffer(std::string_view data, const std::string& out, const options& o) {
  return fast_thumbnail(data, o, [&](const void* png, std::size_t size) { return write_whole(out, png, size); });
}

std::optional<report> fast_thumbnail(std::string_view data, const options& o, const png_sink& sink) {
  keep_freed_memory();
  // The decoded pixels, in a buffer each thread keeps (up to keep_bytes): a
  // fresh one costs a page fault per 4 KiB, and under threads each munmap
  // stops the other cores to flush their TLBs.
  thread_local raster kept;
  raster& pixels = kept;
  struct release_large {
    raster& r;
    ~release_large() {
      if (r.data.capacity() > keep_bytes) r.data = {};
    }
  } guard{pixels};
  std::uint32_t width = 0, height = 0;  // stored, full size
  int orientation = 1;
  if (data.substr(0, 3) == "\xFF\xD8\xFF") {
    const auto j = decode_jpeg(data, o.width, o.height, o.max_pixels, pixels);
    if (!j) return std::nullopt;
    width = j->width;
    height = j->height;
    orientation = j->orientation;
  } else if (data.substr(0, 8) == "\x89PNG\r\n\x1A\n") {
    const auto p = decode_png_shrunk(data, o.width, o.height, o.max_pixels, pixels);
    if (!p) return std::nullopt;
    width = p->width;
    height = p->height;
  } else if (data.substr(0, 4) == "RIFF" && data.substr(8, 4) == "WEBP") {
    const auto w = decode_webp(data, o.width, o.height, o.max_pixels, pixels);
    if (!w) return std::nullopt;
    width = w->width;
    height = w->height;
  } else {
    return std::nullopt;
  }
  const bool swap = orientation >= 5;
  const size2 upright = fit_in_box(swap ? height : width, swap ? width : height, o.width, o.height);
  raster thumb = resize(pixels, swap ? upright.height : upright.width, swap ? upright.width : upright.height);
  if (thumb.channels == 4 && !cmyk_to_srgb(thumb, thumb)) return std::nullopt;  // CMYK: small, then converted
  thumb = orient(std::move(thumb), orientation);
  const std::string png = encode_png(thumb);
  if (png.empty()) return std::nullopt;
  report r;
  r.source_width = width;
  r.source_height = height;
  if (status s = sink(png.data(), png.size()); !s.ok()) {
    r.reason = s.message();
    return r;
  }
  r.what = outcome::made;
  r.width = thumb.width;
  r.height = thumb.height;
  return r;
}

std::optional<report> fast_from_file(const core::input_file& in, const std::string& out, const options& o) {
  if (in.size() == 0 || in.size() > max_read) return std::nullopt;
  const auto size = static_cast<std::size_t>(in.size());
  // The bytes go to a buffer each thread keeps for files up to keep_bytes: a
  // fresh one costs page faults on every image.
  thread_local std::string kept;
  std::string own;
  std::string& data = size <= keep_bytes ? kept : own;
  data.resize(size);
  std::size_t got = 0;  // one read, unless the kernel splits it
  while (got < size) {
    const ssize_t n = ::read(in.fd(), data.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // libvips reads it again and says what is wrong
    got += static_cast<std::size_t>(n);
  }
  return fast_from_buffer(data, out, o);
}

}  // namespace scalekit::jobs::thumbnail::detail
