// The RLE codec itself: no I/O, no libraries (the fuzzers link only this and
// core/simd_target.cc, which says whether the AVX-512 encoder may run).

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "scalekit/core/simd_target.h"
#include "scalekit/jobs/rle/rle.h"

namespace scalekit::jobs::rle {

namespace {

constexpr std::uint32_t chunk_bits = 127;
constexpr std::size_t spare = 8;  // readable bytes past the last row, for word loads and stores

// Pixels 64i..64i+63 of a row as the bits 0..63 of one word (pixel x at bit
// x % 64): the bytes as stored, each byte's bits reversed (pixel 0 is a
// byte's most significant bit). Reads 8 bytes from `at`.
std::uint64_t pixels_lsb_first(const std::uint8_t* at) {
  std::uint64_t v;
  std::memcpy(&v, at, 8);
  if (v == 0 || v == ~std::uint64_t{0}) return v;  // one colour (a page's background): the same reversed
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  return ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
}

// Set bits [x, x + len) of `row` to 1, at most 57 at a time through one
// unaligned 64-bit word (a run of 127 touches at most three). Needs 8
// readable bytes from x / 8: the bitmap's spare bytes guarantee them.
void set_bits(std::uint8_t* row, std::uint32_t x, std::uint32_t len) {
  while (len > 0) {
    const std::uint32_t shift = x & 7, n = std::min<std::uint32_t>(len, 64 - 7);
    std::uint64_t w;
    std::memcpy(&w, row + (x >> 3), 8);
    w = __builtin_bswap64(w) | ((~std::uint64_t{0} >> (64 - n)) << (64 - shift - n));
    w = __builtin_bswap64(w);
    std::memcpy(row + (x >> 3), &w, 8);
    x += n;
    len -= n;
  }
}

}  // namespace

bitmap::bitmap(std::uint32_t width, std::uint32_t height)
    : width_(width), height_(height), stride_((std::size_t{width} + 7) / 8), bits_(stride_ * height + spare, 0) {}

void bitmap::set(std::uint32_t x, std::uint32_t y, bool white) {
  std::uint8_t& byte = row(y)[x >> 3];
  const auto mask = static_cast<std::uint8_t>(0x80 >> (x & 7));
  byte = white ? static_cast<std::uint8_t>(byte | mask) : static_cast<std::uint8_t>(byte & ~mask);
}

bool bitmap::operator==(const bitmap& o) const {
  if (width_ != o.width_ || height_ != o.height_) return false;
  const std::size_t full = width_ / 8;
  const unsigned rest = width_ % 8;
  const auto tail_mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  for (std::uint32_t y = 0; y < height_; ++y) {
    if (std::memcmp(row(y), o.row(y), full) != 0) return false;
    if (rest && ((row(y)[full] ^ o.row(y)[full]) & tail_mask)) return false;
  }
  return true;
}

namespace {

// A run ends where a pixel differs from the one before it, or where a chunk
// starts. Both kinds of boundary are bits of one word per 64 pixels, visited
// with count-trailing-zeros: the work is per run and per word, not per
// pixel. Each boundary at x writes the byte of the run that ends there,
// head + x, where head = (colour << 7) - start was set where the run began
// (from the pixel at x itself): no state but the word's bits carries from
// one run to the next.
char* encode_row_scalar(const std::uint8_t* row, std::uint32_t width, char* p, bool invert) {
  const std::uint64_t flip = invert ? ~std::uint64_t{0} : 0;
  std::uint64_t carry = row[0] >> 7;  // "the pixel before x = 0" is pixel 0: no boundary there
  std::uint32_t head = static_cast<std::uint32_t>((carry ^ (flip & 1)) << 7);
  std::uint32_t next_chunk = chunk_bits;
  const std::uint32_t words = (width + 63) / 64;
  for (std::uint32_t i = 0; i < words; ++i) {
    const std::uint64_t w = pixels_lsb_first(row + std::size_t{8} * i);
    const std::uint64_t changes = w ^ ((w << 1) | carry);  // bit k: pixel 64i+k differs from the one before
    carry = w >> 63;
    const std::uint64_t colours = w ^ flip;  // bit k: 1 where pixel 64i+k is white
    const std::uint32_t base = 64 * i;
    std::uint64_t ends = changes;
    if (next_chunk < base + 64) {  // chunks are longer than a word: one start at most
      ends |= std::uint64_t{1} << (next_chunk - base);
      next_chunk += chunk_bits;
    }
    if (width - base < 64) ends &= (std::uint64_t{1} << (width - base)) - 1;  // bits past the row
    while (ends != 0) {
      const auto k = static_cast<std::uint32_t>(__builtin_ctzll(ends));
      *p++ = static_cast<char>(head + base + k);
      head = static_cast<std::uint32_t>((colours >> k) & 1) * 128 - (base + k);
      ends &= ends - 1;
    }
  }
  *p++ = static_cast<char>(head + width);
  return p;
}

#if defined(__x86_64__)
// The same runs with AVX-512's byte instructions, and no branch per run: a
// word's boundaries are a mask, and the bytes of all its runs are made at
// once. Lane k holds k | (colour of pixel k - 1) << 7; VPCOMPRESSB packs the
// lanes of the boundaries x into the first lanes. The run that ends at x is
// the colour of the pixel before x, and started at the boundary in the lane
// before (lane 0: the last one of an earlier word, carried), so its byte is
// that lane's colour bit over the low 7 bits of (x - start). Positions are
// modulo 256 and relative to the word (a start carried from an earlier word
// is negative): a run is 1..127 pixels, so the low 7 bits of the difference
// are exact whatever the colour bits. All 64 lanes are stored and `p` moves
// by the count: the lanes past it are overwritten next (hence the spare
// bytes of row_bytes_max). GFNI reverses the bits of each byte.
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,gfni,popcnt,lzcnt"))) char* encode_row_avx3_bytes(
    const std::uint8_t* row, std::uint32_t width, char* p, bool invert) {
  alignas(64) static constexpr std::uint8_t lane_numbers[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                                                13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                                                                26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
                                                                39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
                                                                52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __m512i lane = _mm512_load_si512(lane_numbers);
  const __m512i lane_white = _mm512_or_si512(lane, _mm512_set1_epi8(static_cast<char>(0x80)));
  // For the starts: lane i takes lane i - 1 of the first table, lane 0 lane 0 of the second.
  const __m512i lane_before = _mm512_mask_set1_epi8(_mm512_sub_epi8(lane, _mm512_set1_epi8(1)), 1, 64);
  const __m512i low7 = _mm512_set1_epi8(0x7F);
  const __m128i reverse_bits = _mm_set1_epi64x(0x8040201008040201LL);  // GF(2) matrix: bit i -> bit 7 - i
  const std::uint64_t flip = invert ? ~std::uint64_t{0} : 0;
  std::uint64_t carry = row[0] >> 7, w = 0;  // the pixel before x = 0 is pixel 0: no boundary there
  std::uint32_t start = 0;                   // the last run's start, relative to the word (mod 256)
  std::uint32_t next_chunk = chunk_bits;
  const std::uint32_t words = (width + 63) / 64;
  for (std::uint32_t i = 0; i < words; ++i) {
    const __m128i stored = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + std::size_t{8} * i));
    w = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_gf2p8affine_epi64_epi8(stored, reverse_bits, 0)));
    const std::uint64_t before = (w << 1) | carry;  // bit k: pixel 64i+k-1
    carry = w >> 63;
    const std::uint32_t base = 64 * i, chunk = next_chunk - base;
    std::uint64_t ends = (w ^ before) | (chunk < 64 ? std::uint64_t{1} << (chunk & 63) : 0);
    next_chunk += chunk < 64 ? chunk_bits : 0;
    if (width - base < 64) ends &= (std::uint64_t{1} << (width - base)) - 1;  // bits past the row
    const __m512i x = _mm512_maskz_compress_epi8(ends, _mm512_mask_mov_epi8(lane, before ^ flip, lane_white));
    const __m512i starts =
        _mm512_permutex2var_epi8(x, lane_before, _mm512_castsi128_si512(_mm_cvtsi32_si128(static_cast<int>(start))));
    // Bitwise low7 ? (x - starts) : x.
    _mm512_storeu_si512(p, _mm512_ternarylogic_epi32(low7, _mm512_sub_epi8(x, starts), x, 0xCA));
    const int n = __builtin_popcountll(ends);
    p += n;
    const std::uint32_t last = 63 - static_cast<std::uint32_t>(__builtin_clzll(ends | 1));
    start = (n != 0 ? last : start) - 64;
  }
  // The last run ends at the row's end; its colour is the last pixel's.
  const std::uint32_t last_pixel = width - 1 - 64 * (words - 1);
  const auto colour = static_cast<std::uint32_t>(((w ^ flip) >> last_pixel) & 1) << 7;
  *p++ = static_cast<char>(colour | ((width - 64 * words - start) & 0x7F));
  return p;
}
#endif

}  // namespace

const std::vector<row_kernel>& usable_row_kernels() {
  static const std::vector<row_kernel> kernels = [] {
    std::vector<row_kernel> k;
#if defined(__x86_64__)
    if (core::usable_avx3_byte_ops()) k.push_back(row_kernel::avx3_bytes);
#endif
    k.push_back(row_kernel::scalar);
    return k;
  }();
  return kernels;
}

char* encode_row_on(row_kernel k, const std::uint8_t* row, std::uint32_t width, char* out, bool invert) {
  if (width == 0) return out;
#if defined(__x86_64__)
  if (k == row_kernel::avx3_bytes) return encode_row_avx3_bytes(row, width, out, invert);
#endif
  (void)k;
  return encode_row_scalar(row, width, out, invert);
}

char* encode_row(const std::uint8_t* row, std::uint32_t width, char* out, bool invert) {
  static const row_kernel best = usable_row_kernels().front();
  return encode_row_on(best, row, width, out, invert);
}

void encode_row(const std::uint8_t* row, std::uint32_t width, std::string& out, bool invert) {
  encode_rows(row, 0, 1, width, out, invert);
}

void encode_rows(const std::uint8_t* first, std::ptrdiff_t step, std::uint32_t rows, std::uint32_t width,
                 std::string& out, bool invert) {
  // The runs are written in place, past out's size: it grows (zero-filled
  // once) a page or so at a time to keep room for a row's most, and is cut to
  // the runs at the end, so the memory touched is about what the runs need.
  const std::size_t most = row_bytes_max(width), step_bytes = most + 4096;
  std::size_t used = out.size();
  for (std::uint32_t r = 0; r < rows; ++r) {
    if (out.size() - used < most) out.resize(used + (rows - r == 1 ? most : step_bytes));
    used = static_cast<std::size_t>(encode_row(first + step * std::ptrdiff_t{r}, width, out.data() + used, invert) -
                                    out.data());
  }
  out.resize(used);
}

std::string encode(const bitmap& image) {
  std::string out;
  out.reserve(4 + std::size_t{image.height()} * ((image.width() + chunk_bits - 1) / chunk_bits + 8));
  const std::uint32_t w = image.width(), h = image.height();
  const char header[4] = {static_cast<char>(w & 0xFF), static_cast<char>(w >> 8), static_cast<char>(h & 0xFF),
                          static_cast<char>(h >> 8)};
  out.append(header, 4);
  if (h > 0) encode_rows(image.row(0), static_cast<std::ptrdiff_t>(image.stride()), h, w, out);
  return out;
}

result<bitmap> decode(std::string_view data) {
  if (data.size() < 4)
    return status::corruption("offset 0: the 4-byte header is cut short (" + std::to_string(data.size()) + " bytes)");
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
  const std::uint32_t w = byte(0) | byte(1) << 8, h = byte(2) | byte(3) << 8;
  const std::uint64_t least = std::uint64_t{h} * ((w + chunk_bits - 1) / chunk_bits);
  if (data.size() - 4 < least)
    return status::corruption("offset 0: the header says " + std::to_string(w) + "x" + std::to_string(h) +
                              ", which needs at least " + std::to_string(least) + " bytes of runs; the file has " +
                              std::to_string(data.size() - 4));
  bitmap image(w, h);
  std::size_t at = 4;
  for (std::uint32_t y = 0; y < h; ++y) {
    std::uint8_t* row = image.row(y);
    for (std::uint32_t x = 0; x < w;) {
      if (at >= data.size())
        return status::corruption("offset " + std::to_string(at) + ": the data ends in row " + std::to_string(y) +
                                  " at pixel " + std::to_string(x) + " of " + std::to_string(w));
      const std::uint8_t b = byte(at);
      const std::uint32_t len = b & 0x7F;
      if (len == 0) return status::corruption("offset " + std::to_string(at) + ": a zero-length run");
      if (x + len > w)
        return status::corruption("offset " + std::to_string(at) + ": a run of " + std::to_string(len) +
                                  " pixels from x = " + std::to_string(x) + " overflows row " + std::to_string(y) +
                                  " (width " + std::to_string(w) + ")");
      if (b & 0x80) set_bits(row, x, len);  // black is the buffer's zero
      x += len;
      ++at;
    }
  }
  if (at != data.size())
    return status::corruption("offset " + std::to_string(at) + ": " + std::to_string(data.size() - at) +
                              " bytes after the last row (the size in the header disagrees with the data)");
  return image;
}

}  // namespace scalekit::jobs::rle
