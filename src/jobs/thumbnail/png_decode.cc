// Why not libspng or libpng: both inflate with zlib, a window at a time, and
// that is most of a large PNG's cost. libdeflate inflates the whole stream
// in one call, about twice as fast (docs/BENCHMARKS.md); what it needs is the
// output size, which IHDR gives. Only the plain cases are taken (8-bit grey
// RGB or palette, no interlace); the rest go to libvips.

#include "png_decode.h"

#include <libdeflate.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
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

// A palette image's rows unfiltered (a byte per pixel) and looked up into
// RGB, as libvips loads it; false for an index past the palette's end.
bool expand_palette(const std::uint8_t* raw, std::string_view palette, raster& r) {
  const std::size_t w = r.width, entries = palette.size() / 3;
  const auto* rgb = reinterpret_cast<const std::uint8_t*>(palette.data());
  std::vector<std::uint8_t> index(w), above(w);
  r.channels = 3;
  r.data.resize(w * 3 * r.height);
  for (std::size_t y = 0; y < r.height; ++y) {
    if (!unfilter(raw + y * (w + 1), index.data(), y > 0 ? above.data() : nullptr, w, 1)) return false;
    std::uint8_t* out = r.data.data() + y * w * 3;
    for (std::size_t x = 0; x < w; ++x) {
      if (index[x] >= entries) return false;
      std::memcpy(out + 3 * x, rgb + 3 * index[x], 3);
    }
    index.swap(above);
  }
  return true;
}

// A 16-bit image's rows unfiltered (the filters work on bytes, two to a
// sample) and kept to their high bytes: the 8 bits a thumbnail has, as
// libvips makes them (its thumbnails of 16-bit PNGs are 8-bit).
bool narrow_deep(const std::uint8_t* raw, std::size_t stride, std::size_t channels, raster& r) {
  std::vector<std::uint8_t> row(stride), above(stride);
  r.channels = static_cast<std::uint32_t>(channels);
  const std::size_t samples = stride / 2;
  r.data.resize(samples * r.height);
  for (std::size_t y = 0; y < r.height; ++y) {
    if (!unfilter(raw + y * (stride + 1), row.data(), y > 0 ? above.data() : nullptr, stride, 2 * channels))
      return false;
    std::uint8_t* out = r.data.data() + y * samples;
    for (std::size_t i = 0; i < samples; ++i) out[i] = row[2 * i];
    row.swap(above);
  }
  return true;
}

}  // namespace

bool decode_png(std::string_view data, std::uint64_t max_pixels, raster& r) {
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

  r.width = width;
  r.height = height;
  if (indexed) return expand_palette(raw.data(), palette, r);
  if (deep) return narrow_deep(raw.data(), stride, channels, r);
  r.channels = static_cast<std::uint32_t>(channels);
  r.data.resize(stride * height);
  for (std::size_t y = 0; y < height; ++y) {
    std::uint8_t* row = r.data.data() + y * stride;
    if (!unfilter(raw.data() + y * (stride + 1), row, y > 0 ? row - stride : nullptr, stride, channels)) return false;
  }
  return true;
}

}  // namespace scalekit::jobs::thumbnail::detail
