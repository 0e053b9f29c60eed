// RLE files: images in (FreeImage for 1-bit BMPs, libvips for the rest),
// BMPs out (FreeImage), and the task that spreads a file's rows.

#include "scalekit/jobs/rle/rle.h"

#include <FreeImage.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <vips/vips8>

#include "imaging/vips_support.h"
#include "rle/tasks.h"
#include "scalekit/core/atomic_file.h"
#include "scalekit/core/input_file.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::rle {

namespace {

constexpr std::uint64_t max_rle_file = std::uint64_t{1} << 30;  // 1 GiB: more than any 65535x65535 image needs

void ensure_freeimage() {
  static std::once_flag once;
  std::call_once(once, [] { FreeImage_Initialise(FALSE); });
}

// A FreeImage bitmap, unloaded when it goes.
struct dib_deleter {
  void operator()(FIBITMAP* d) const { FreeImage_Unload(d); }
};
using dib_ptr = std::unique_ptr<FIBITMAP, dib_deleter>;

bool light(const RGBQUAD& c) { return int{c.rgbRed} + c.rgbGreen + c.rgbBlue >= 384; }

status too_large(const std::string& path, unsigned w, unsigned h) {
  return status::too_large("'" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                           "; the RLE format holds at most " + std::to_string(max_side) + " on a side");
}

// A 1-bit BMP through FreeImage, which keeps rows packed. Returns false when
// FreeImage does not take the file as a 1-bit BMP (then libvips tries); else
// `out` holds the image, or `error` says why it was refused. The header is
// read first, so an oversized image is refused before its pixels are. (Out
// parameters: GCC 12 warns falsely on an optional<result<bitmap>>.)
bool load_1bit_bmp(const std::string& path, bitmap& out, status& error) {
  ensure_freeimage();
  if (FreeImage_GetFileType(path.c_str(), 0) != FIF_BMP) return false;
  if (const dib_ptr header{FreeImage_Load(FIF_BMP, path.c_str(), FIF_LOAD_NOPIXELS)}) {
    const unsigned w = FreeImage_GetWidth(header.get()), h = FreeImage_GetHeight(header.get());
    if (w > max_side || h > max_side) {
      error = too_large(path, w, h);
      return true;
    }
  }
  const dib_ptr owner{FreeImage_Load(FIF_BMP, path.c_str(), 0)};
  FIBITMAP* dib = owner.get();
  if (dib == nullptr) return false;
  const unsigned w = FreeImage_GetWidth(dib), h = FreeImage_GetHeight(dib);
  if (FreeImage_GetBPP(dib) != 1) return false;
  if (w > max_side || h > max_side) {
    error = too_large(path, w, h);
    return true;
  }
  const RGBQUAD* pal = FreeImage_GetPalette(dib);
  const bool white0 = pal && light(pal[0]), white1 = pal ? light(pal[1]) : true;
  out = bitmap(w, h);
  const std::size_t n = out.stride();
  for (unsigned y = 0; y < h; ++y) {
    const BYTE* src = FreeImage_GetScanLine(dib, static_cast<int>(h - 1 - y));  // FreeImage rows are bottom-up
    std::uint8_t* dst = out.row(y);
    if (white1 && !white0) {
      std::memcpy(dst, src, n);
    } else if (white0 && !white1) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint8_t>(~src[i]);
    } else {
      std::memset(dst, white0 ? 0xFF : 0x00, n);  // both entries alike: one colour
    }
  }
  return true;
}

}  // namespace

result<bitmap> load(const std::string& path, source_kind* how) {
  // A FIFO or a device is refused before FreeImage or libvips reads it: they
  // would block, or read /dev/zero for ever.
  if (status s = core::check_input(path); !s.ok()) return s;
  bitmap one_bit;
  status refused;
  if (load_1bit_bmp(path, one_bit, refused)) {
    if (!refused.ok()) return refused;
    if (how) *how = source_kind::one_bit;
    return one_bit;
  }
  try {
    imaging::ensure_vips();
    if (vips_foreign_find_load(path.c_str()) == nullptr) {
      imaging::take_vips_error();
      return status::corruption("'" + path + "' is not an image");  // bad data, not a bad argument
    }
    vips::VImage im = vips::VImage::new_from_file(
        path.c_str(),
        vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", VIPS_FAIL_ON_ERROR));
    if (im.width() > static_cast<int>(max_side) || im.height() > static_cast<int>(max_side))
      return too_large(path, static_cast<unsigned>(im.width()), static_cast<unsigned>(im.height()));
    if (im.has_alpha()) im = im.flatten(vips::VImage::option()->set("background", 255.0));
    im = im.colourspace(VIPS_INTERPRETATION_B_W);
    if (im.bands() > 1) im = im.extract_band(0);
    if (im.format() != VIPS_FORMAT_UCHAR) im = im.cast(VIPS_FORMAT_UCHAR, vips::VImage::option()->set("shift", true));
    std::size_t size = 0;
    void* mem = im.write_to_memory(&size);
    const auto* px = static_cast<const std::uint8_t*>(mem);
    bitmap out(static_cast<std::uint32_t>(im.width()), static_cast<std::uint32_t>(im.height()));
    for (std::uint32_t y = 0; y < out.height(); ++y) {
      std::uint8_t* dst = out.row(y);
      const std::uint8_t* src = px + std::size_t{y} * out.width();
      for (std::uint32_t x = 0; x < out.width(); ++x)
        if (src[x] >= 128) dst[x >> 3] |= static_cast<std::uint8_t>(0x80 >> (x & 7));
    }
    g_free(mem);
    if (how) *how = source_kind::converted;
    return out;
  } catch (const vips::VError& e) {
    // libvips may give no words (a PNG cut inside its first chunks).
    std::string why = imaging::one_line(e.what());
    if (imaging::file_cut_short(path))
      why = "truncated: the file ends before its image does" + (why.empty() ? "" : " (" + why + ")");
    else if (why.empty())
      why = "the image decoder gave no reason";
    return status::corruption("cannot read '" + path + "': " + why);
  }
}

status save_bmp(const bitmap& image, const std::string& path) {
  if (image.width() == 0 || image.height() == 0)
    return status::invalid_argument("cannot write '" + path + "': a " + std::to_string(image.width()) + "x" +
                                    std::to_string(image.height()) +
                                    " image has no pixels, and a BMP needs at least one");
  ensure_freeimage();
  const dib_ptr owner{FreeImage_Allocate(static_cast<int>(image.width()), static_cast<int>(image.height()), 1)};
  FIBITMAP* dib = owner.get();
  if (dib == nullptr) return status::io_error("cannot write '" + path + "': out of memory");
  RGBQUAD* pal = FreeImage_GetPalette(dib);
  pal[0] = RGBQUAD{0, 0, 0, 0};
  pal[1] = RGBQUAD{255, 255, 255, 0};
  const std::size_t n = image.stride();
  const unsigned rest = image.width() % 8;
  for (std::uint32_t y = 0; y < image.height(); ++y) {
    BYTE* dst = FreeImage_GetScanLine(dib, static_cast<int>(image.height() - 1 - y));
    std::memcpy(dst, image.row(y), n);
    if (rest) dst[n - 1] &= static_cast<BYTE>(0xFF << (8 - rest));  // clean padding bits
  }
  // Encoded in memory, then written whole or not at all.
  FIMEMORY* mem = FreeImage_OpenMemory(nullptr, 0);
  struct close_memory {
    FIMEMORY* m;
    ~close_memory() { FreeImage_CloseMemory(m); }
  } mem_guard{mem};
  BYTE* data = nullptr;
  DWORD size = 0;
  if (!FreeImage_SaveToMemory(FIF_BMP, dib, mem, 0) || !FreeImage_AcquireMemory(mem, &data, &size))
    return status::io_error("cannot write '" + path + "': FreeImage could not encode a BMP");
  auto file = core::atomic_file::create(path);
  if (!file.ok()) return file.error();
  if (status s = file->write(data, size); !s.ok()) return s;
  return file->commit();
}

namespace {

// Payload of rle.rows: width, row count, stride, then the packed rows and 8
// spare bytes (the encoder reads whole words past a row's end).
constexpr std::size_t row_spare = 8;
std::string encode_rows_call(const bitmap& image, std::uint32_t y0, std::uint32_t y1) {
  core::wire_writer w;
  w.put(image.width()).put(y1 - y0).put<std::uint64_t>(image.stride());
  w.str().append(reinterpret_cast<const char*>(image.row(y0)), (y1 - y0) * image.stride());
  w.str().append(row_spare, '\0');
  return w.take();
}

core::bytes rows_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const auto width = in.get<std::uint32_t>();
  const auto rows = in.get<std::uint32_t>();
  const auto stride = in.get<std::uint64_t>();
  if (stride != (std::uint64_t{width} + 7) / 8 || in.remaining() != rows * stride + row_spare)
    throw core::wire_error("rle.rows: rows do not match their size");
  const auto* bits = reinterpret_cast<const std::uint8_t*>(payload.data() + (payload.size() - in.remaining()));
  std::string out;
  for (std::uint32_t r = 0; r < rows; ++r) encode_row(bits + r * stride, width, out);
  return out;
}

}  // namespace

result<file_stats> compress_file(const std::string& in, const std::string& out, core::executor& rows) {
  const std::string inputs[] = {in};
  if (status s = core::check_output(out, inputs); !s.ok()) return s;  // before a byte is written
  auto image = load(in);
  if (!image.ok()) return image.error();
  const bitmap& b = image.value();
  auto file = core::atomic_file::create(out);
  if (!file.ok()) return file.error();
  // Bands of rows, a few per worker: the seed sends one row per call; rows of
  // a few hundred bytes are too small to be worth a hand-off each.
  const std::uint32_t bands = std::min<std::uint32_t>(b.height(), static_cast<std::uint32_t>(rows.concurrency() * 4));
  std::vector<core::bytes> payloads;
  for (std::uint32_t k = 0; k < bands; ++k) {
    const std::uint32_t y0 = static_cast<std::uint32_t>(std::uint64_t{b.height()} * k / bands);
    const std::uint32_t y1 = static_cast<std::uint32_t>(std::uint64_t{b.height()} * (k + 1) / bands);
    if (y1 > y0) payloads.push_back(encode_rows_call(b, y0, y1));
  }
  const std::uint8_t header[4] = {static_cast<std::uint8_t>(b.width() & 0xFF),
                                  static_cast<std::uint8_t>(b.width() >> 8),
                                  static_cast<std::uint8_t>(b.height() & 0xFF),
                                  static_cast<std::uint8_t>(b.height() >> 8)};
  if (status s = file->write(header, 4); !s.ok()) return s;
  std::uint64_t size = 4;
  status failed;
  rows.map_streaming(detail::rows_task, std::move(payloads), [&](std::size_t, result<core::bytes>& r) {
    if (!failed.ok()) return;
    if (!r.ok()) {
      failed = r.error();
      return;
    }
    size += r->size();
    failed = file->write(r->data(), r->size());
  });
  if (!failed.ok()) return failed;
  if (status s = file->commit(); !s.ok()) return s;
  return file_stats{b.width(), b.height(), size};
}

result<file_stats> decompress_file(const std::string& in, const std::string& out) {
  const std::string inputs[] = {in};
  if (status s = core::check_output(out, inputs); !s.ok()) return s;  // before a byte is written
  auto file = core::open_input(in);                                   // a FIFO or a device is refused before it is read
  if (!file.ok()) return file.error();
  if (file->size() > max_rle_file)
    return status::too_large("'" + in + "' is " + std::to_string(file->size()) + " bytes; an RLE file is at most " +
                             std::to_string(max_rle_file));
  std::string data;
  if (status s = file->read_all(data, max_rle_file); !s.ok()) return s;
  auto image = decode(data);
  if (!image.ok()) return status::corruption("'" + in + "': " + image.error().message());
  if (image->width() == 0 || image->height() == 0)
    return status::corruption("'" + in + "': the header says " + std::to_string(image->width()) + "x" +
                              std::to_string(image->height()) +
                              ": an image without pixels, which a BMP cannot hold (nothing written)");
  if (status s = save_bmp(image.value(), out); !s.ok()) return s;
  return file_stats{image->width(), image->height(), data.size()};
}

void detail::register_rows_task() { core::task_registry::global().add(detail::rows_task, rows_task_body); }

}  // namespace scalekit::jobs::rle
