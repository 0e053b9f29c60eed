// The RLE codec itself: no I/O, no libraries (the fuzzer links only this).

#include <algorithm>
#include <cstring>

#include "scalekit/jobs/rle/rle.h"

namespace scalekit::jobs::rle {

namespace {

constexpr std::uint32_t chunk_bits = 127;
constexpr std::size_t spare = 8;  // readable bytes past the last row, for word loads

// 64 bits starting at bit `x` of `row` (MSB first); bits past the row are garbage.
std::uint64_t load_bits(const std::uint8_t* row, std::uint32_t x) {
  std::uint64_t w;
  std::memcpy(&w, row + (x >> 3), 8);
  return __builtin_bswap64(w) << (x & 7);
}

// The first position in [x, end) whose pixel differs from `bit`, or `end`.
std::uint32_t next_change(const std::uint8_t* row, std::uint32_t x, std::uint32_t end, bool bit) {
  while (x < end) {
    const std::uint64_t w = load_bits(row, x);
    const std::uint64_t diff = bit ? ~w : w;
    const std::uint32_t valid = 64 - (x & 7);
    if (diff != 0) {
      const auto lz = static_cast<std::uint32_t>(__builtin_clzll(diff));
      if (lz < valid) return std::min(end, x + lz);
    }
    x += valid;
  }
  return end;
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

void encode_row(const std::uint8_t* row, std::uint32_t width, std::string& out) {
  // Runs go to a local buffer first (a row has at most `width` runs): one
  // append per row instead of a capacity check per byte.
  char buf[max_side];
  char* p = buf;
  for (std::uint32_t chunk = 0; chunk < width; chunk += chunk_bits) {
    const std::uint32_t end = std::min(width, chunk + chunk_bits);
    for (std::uint32_t x = chunk; x < end;) {
      const bool bit = (row[x >> 3] >> (7 - (x & 7))) & 1;
      const std::uint32_t next = next_change(row, x, end, bit);
      *p++ = static_cast<char>((bit ? 0x80 : 0) | (next - x));
      x = next;
    }
  }
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
