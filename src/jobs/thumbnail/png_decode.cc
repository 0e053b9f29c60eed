// Why not libspng or libpng: both inflate with zlib, a window at a time, and
// that is most of a large PNG's cost. libdeflate inflates the whole stream
// in one call, about twice as fast (docs/BENCHMARKS.md); what it needs is the
// output size, which IHDR gives. Only the plain cases are taken (8-bit grey
// RGB or palette, no interlace); the rest go to libvips.

#include "png_decode.h"

#include "resize.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace scalekit::jobs::thumbnail::detail {

namespace {

constexpr std::size_t keep_bytes = std::size_t{64} << 20;

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

struct free_decompressor {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_decompressor* decompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, free_decompressor> d(libdeflate_alloc_decompressor());
  return d.get();
}

// Paeth's predictor in a form without branches and with a short chain
// through `a` (the byte to the left, which the previous step just made): the
// nearest of a, b, c to a + b - c is min(a, b) when max(a, b) is at most
// 3c - a - b, max(a, b) when min(a, b) is at least that, and c otherwise,
// with the ties the PNG specification gives.
inline std::uint8_t paeth(int a, int b, int c) {
  const int threshold = 3 * c - (a + b);
  const int lo = a < b ? a : b, hi = a < b ? b : a;
  const int t = hi <= threshold ? lo : c;
  return static_cast<std::uint8_t>(threshold <= lo ? hi : t);
}

// Paeth on RGB rows with the left and upper-left pixels kept in registers:
// each byte waits for the one three to its left, and reading it back from
// memory would add a store-to-load delay to that chain.
void paeth_rgb(const std::uint8_t* __restrict x, std::uint8_t* __restrict row, const std::uint8_t* __restrict prev,
               std::size_t n) {
  int a0 = 0, a1 = 0, a2 = 0, c0 = 0, c1 = 0, c2 = 0;
  for (std::size_t i = 0; i + 3 <= n; i += 3) {
    const int b0 = prev[i], b1 = prev[i + 1], b2 = prev[i + 2];
    a0 = (x[i] + paeth(a0, b0, c0)) & 0xFF;
    a1 = (x[i + 1] + paeth(a1, b1, c1)) & 0xFF;
    a2 = (x[i + 2] + paeth(a2, b2, c2)) & 0xFF;
    row[i] = static_cast<std::uint8_t>(a0);
    row[i + 1] = static_cast<std::uint8_t>(a1);
    row[i + 2] = static_cast<std::uint8_t>(a2);
    c0 = b0;
    c1 = b1;
    c2 = b2;
  }
}

// One row's filter undone: `in` (filter byte first) into `row`, with the row
// above `prev` (nullptr for the first row). False for an unknown filter.
bool unfilter(const std::uint8_t* in, std::uint8_t* row, const std::uint8_t* prev, std::size_t n, std::size_t bpp) {
  const std::uint8_t filter = in[0];
  const std::uint8_t* x = in + 1;
  switch (filter) {
    case 0: std::memcpy(row, x, n); return true;
    case 1:
      for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<std::uint8_t>(x[i] + (i >= bpp ? row[i - bpp] : 0));
      return true;
    case 2:
      for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<std::uint8_t>(x[i] + (prev ? prev[i] : 0));
      return true;
    case 3:
      for (std::size_t i = 0; i < n; ++i) {
        const int a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
        row[i] = static_cast<std::uint8_t>(x[i] + ((a + b) >> 1));
      }
      return true;
    case 4:
      if (prev == nullptr) {  // Paeth with no row above is Sub
        for (std::size_t i = 0; i < n; ++i) row[i] = static_cast<std::uint8_t>(x[i] + (i >= bpp ? row[i - bpp] : 0));
        return true;
      }
      if (bpp == 3) {
        paeth_rgb(x, row, prev, n);
        return true;
      }
      for (std::size_t i = 0; i < bpp; ++i) row[i] = static_cast<std::uint8_t>(x[i] + prev[i]);
      for (std::size_t i = bpp; i < n; ++i)
        row[i] = static_cast<std::uint8_t>(x[i] + paeth(row[i - bpp], prev[i], prev[i - bpp]));
      return true;
    default: return false;
  }
}

}  // namespace

namespace {

bool decode(std::string_view data, std::uint32_t box_w, std::uint32_t box_h, std::uint64_t max_pixels, raster& r,
            size2& full) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t size = data.size();
  if (size < 8 + 25 || data.substr(0, 8) != "\x89PNG\r\n\x1A\n") return false;
  if (be32(p + 8) != 13 || std::memcmp(p + 12, "IHDR", 4) != 0) return false;
  const std::uint32_t width = be32(p + 16), height = be32(p + 20);
  const unsigned depth = p[24], colour = p[25], method = p[26], filtering = p[27], interlace = p[28];
  const bool deep = depth == 16 && colour != 3;
  if (width == 0 || height == 0 || (depth != 8 && !deep) || (colour != 0 && colour != 2 && colour != 3) ||
      method != 0 || filtering != 0 || interlace != 0)
    return false;
  if (std::uint64_t{width} * height > max_pixels) return false;
  const bool indexed = colour == 3;
  const std::size_t channels = colour == 2 ? 3 : 1;  // in the data: a palette index is one byte

  // The chunks: each CRC checked, the IDATs joined, IEND required.
  std::string idat;
  std::string_view palette;  // PLTE: RGB triples
  bool ended = false;
  for (std::size_t at = 8; at + 12 <= size;) {
    const std::uint32_t length = be32(p + at);
    if (length > size - at - 12) return false;  // cut short
    const std::string_view type(data.data() + at + 4, 4);
    const std::uint32_t crc = be32(p + at + 8 + length);
    if (libdeflate_crc32(0, p + at + 4, length + 4) != crc) return false;
    if (type == "IDAT") {
      idat.append(data.data() + at + 8, length);
    } else if (type == "PLTE") {
      palette = data.substr(at + 8, length);
    } else if (type == "IEND") {
      ended = true;
      break;
    } else if (type == "tRNS" || type == "iCCP" || (type != "IHDR" && type != "PLTE" && (type[0] & 0x20) == 0)) {
      return false;  // transparency, a profile, or a critical chunk not known here
    }
    at += 12 + length;
  }
  if (!ended || idat.empty()) return false;
  if (indexed && (palette.empty() || palette.size() % 3 != 0 || palette.size() > 3 * 256)) return false;

  const std::size_t stride = width * channels * (deep ? 2 : 1);  // bytes of a row in the data
  const std::size_t raw_size = (stride + 1) * height;
  // The inflated rows, in a buffer each thread keeps (up to a bound): a fresh
  // one costs a page fault per 4 KiB, a tenth of the decode.
  thread_local std::vector<std::uint8_t> kept;
  std::vector<std::uint8_t> own;
  std::vector<std::uint8_t>& raw = raw_size <= keep_bytes ? kept : own;
  if (raw.size() < raw_size) raw.resize(raw_size);
  std::size_t got = 0;
  if (libdeflate_zlib_decompress(decompressor(), idat.data(), idat.size(), raw.data(), raw_size, &got) !=
          LIBDEFLATE_SUCCESS ||
      got != raw_size)
    return false;

  full = {width, height};

  // Each row unfiltered (the filters work on bytes: a 16-bit sample is two),
  // then a palette's indices looked up into RGB as libvips loads them, a
  // 16-bit sample kept to its high byte (libvips' thumbnails of 16-bit PNGs
  // are 8-bit), and the row handed to the box average or stored.
  const std::uint32_t out_channels = indexed ? 3 : static_cast<std::uint32_t>(channels);
  const std::size_t out_stride = std::size_t{width} * out_channels, bpp = deep ? 2 * channels : channels;
  std::uint32_t kx = 1, ky = 1;
  if (box_w != 0 && box_h != 0) {
    const size2 t = fit_in_box(width, height, box_w, box_h);
    kx = box_factor(width, t.width);
    ky = box_factor(height, t.height);
  }
  std::optional<box_rows> box;
  if (kx > 1 || ky > 1) {
    box.emplace(width, out_channels, kx, ky, height, r);
  } else {
    r.width = width;
    r.height = height;
    r.channels = out_channels;
    r.data.resize(out_stride * height);
  }
  std::vector<std::uint8_t> row(stride), above(stride), made(indexed || deep ? out_stride : 0);
  const std::size_t entries = palette.size() / 3;
  const auto* rgb = reinterpret_cast<const std::uint8_t*>(palette.data());
  for (std::uint32_t y = 0; y < height; ++y) {
    if (!unfilter(raw.data() + y * (stride + 1), row.data(), y > 0 ? above.data() : nullptr, stride, bpp)) return false;
    const std::uint8_t* out = row.data();
    if (indexed) {
      if (entries < 256) {  // an index past the palette's end? (a max, not max_element: it vectorizes)
        std::uint8_t top = 0;
        for (std::size_t x = 0; x < width; ++x) top = std::max(top, row[x]);
        if (top >= entries) return false;
      }
      for (std::size_t x = 0; x < width; ++x) std::memcpy(made.data() + 3 * x, rgb + 3 * row[x], 3);
      out = made.data();
    } else if (deep) {
      for (std::size_t i = 0; i < out_stride; ++i) made[i] = row[2 * i];
      out = made.data();
    }
    if (box) {
      box->add(out);
    } else {
      std::memcpy(r.data.data() + y * out_stride, out, out_stride);
    }
    row.swap(above);
  }
  return true;
}

}  // namespace

bool decode_png(std::string_view data, std::uint64_t max_pixels, raster& out) {
  size2 full{};
  return decode(data, 0, 0, max_pixels, out, full);
}

std::optional<size2> decode_png_shrunk(std::string_view data, std::uint32_t box_w, std::uint32_t box_h,
                                       std::uint64_t max_pixels, raster& out) {
  size2 full{};
  if (!decode(data, box_w, box_h, max_pixels, out, full)) return std::nullopt;
  return full;
}

}  // namespace scalekit::jobs::thumbnail::detail
