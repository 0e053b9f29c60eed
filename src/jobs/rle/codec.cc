// The RLE codec itself: no I/O, no libraries (the fuzzer links only this).

#include <algorithm>
#include <cstring>

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

// A run ends where a pixel differs from the one before it, or where a chunk
// starts. Both kinds of boundary are bits of one word per 64 pixels, visited
// with count-trailing-zeros: the work is per run and per word, not per
// pixel. Each boundary at x writes the byte of the run that ends there,
// head + x, where head = (colour << 7) - start was set where the run began
// (from the pixel at x itself): no state but the word's bits carries from
// one run to the next.
void encode_row(const std::uint8_t* row, std::uint32_t width, std::string& out, bool invert) {
  if (width == 0) return;
  // Runs go to a local buffer first (a row has at most `width` runs): one
  // append per row instead of a capacity check per byte.
  char buf[max_side];
  char* p = buf;
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
  out.append(buf, static_cast<std::size_t>(p - buf));
}

std::string encode(const bitmap& image) {
  std::string out;
  out.reserve(4 + std::size_t{image.height()} * ((image.width() + chunk_bits - 1) / chunk_bits + 8));
  const std::uint32_t w = image.width(), h = image.height();
  const char header[4] = {static_cast<char>(w & 0xFF), static_cast<char>(w >> 8), static_cast<char>(h & 0xFF),
                          static_cast<char>(h >> 8)};
  out.append(header, 4);
  for (std::uint32_t y = 0; y < h; ++y) encode_row(image.row(y), w, out);
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
