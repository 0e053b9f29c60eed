// 1-bit BMP headers in, 1-bit BMP files out: no I/O, no libraries (the BMP
// fuzzer links only this and the codec).

#include "scalekit/jobs/rle/bmp.h"

#include <cstring>

#include "scalekit/jobs/rle/rle.h"

namespace scalekit::jobs::rle {

namespace {

constexpr std::size_t file_header = 14;

std::uint32_t u16_at(std::string_view s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at]) | static_cast<std::uint8_t>(s[at + 1]) << 8);
}
std::uint32_t u32_at(std::string_view s, std::size_t at) { return u16_at(s, at) | u16_at(s, at + 2) << 16; }
std::int64_t i32_at(std::string_view s, std::size_t at) { return static_cast<std::int32_t>(u32_at(s, at)); }

void put16(std::string& s, std::size_t at, std::uint32_t v) {
  s[at] = static_cast<char>(v & 0xFF);
  s[at + 1] = static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& s, std::size_t at, std::uint32_t v) {
  put16(s, at, v & 0xFFFF);
  put16(s, at + 2, v >> 16);
}

// Light or dark, as the FreeImage reader decided: R + G + B >= 384. Entries are
// stored blue, green, red.
bool light(std::string_view entry) {
  return int{static_cast<std::uint8_t>(entry[0])} + static_cast<std::uint8_t>(entry[1]) +
             static_cast<std::uint8_t>(entry[2]) >=
         384;
}

}  // namespace

result<bmp_info> parse_bmp(std::string_view head, std::uint64_t file_size) {
  bmp_info info;  // not a 1-bit BMP until the headers say so
  if (head.size() < file_header + 4 || head[0] != 'B' || head[1] != 'M') return info;
  const std::uint32_t offset = u32_at(head, 10), dib = u32_at(head, 14);
  std::int64_t width = 0, height = 0;
  std::uint32_t bpp = 0, compression = 0, colours_used = 0;
  std::size_t entry_size = 4;
  if (dib == 12) {  // OS/2 1.x: 16-bit sides, 3-byte palette entries
    if (head.size() < file_header + 12) return info;
    width = u16_at(head, 18);
    height = u16_at(head, 20);
    bpp = u16_at(head, 24);
    entry_size = 3;
  } else if (dib == 16 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
    if (head.size() < file_header + 16) return info;
    width = i32_at(head, 18);
    height = i32_at(head, 22);
    bpp = u16_at(head, 28);
    if (dib >= 40) {
      if (head.size() < file_header + 40) return info;
      compression = u32_at(head, 30);
      colours_used = u32_at(head, 46);
    }
  } else {
    return info;  // another header: not ours
  }
  if (bpp != 1 || compression != 0) return info;

  // A 1-bit BMP: from here on, what does not fit is an error.
  if (width <= 0) return status::corruption("a 1-bit BMP of width " + std::to_string(width));
  if (height == 0 || height == INT32_MIN) return status::corruption("a 1-bit BMP of height " + std::to_string(height));
  const bool top_down = height < 0;
  if (top_down) height = -height;
  const std::uint64_t palette_at = file_header + dib;
  const std::uint64_t entries = colours_used == 0 ? 2 : std::min<std::uint64_t>(colours_used, 2);
  if (palette_at + entries * entry_size > file_size)
    return status::corruption("a 1-bit BMP cut short in its palette (" + std::to_string(file_size) + " bytes)");
  if (offset < palette_at)
    return status::corruption("a 1-bit BMP whose pixels start at offset " + std::to_string(offset) +
                              ", inside its headers");
  // head holds at least bmp_head_bytes or the whole file, and the palette is in both.
  const auto entry = [&](std::uint64_t i) { return head.substr(palette_at + i * entry_size, entry_size); };
  const bool light0 = light(entry(0)), light1 = entries > 1 && light(entry(1));  // a missing entry is black

  info.one_bit = true;
  info.width = static_cast<std::uint32_t>(width);
  info.height = static_cast<std::uint32_t>(height);
  info.stride = (static_cast<std::uint64_t>(width) + 31) / 32 * 4;
  const std::uint64_t last_stored = (info.height - 1) * info.stride;
  info.first_row = offset + (top_down ? 0 : last_stored);
  info.row_step = top_down ? static_cast<std::int64_t>(info.stride) : -static_cast<std::int64_t>(info.stride);
  info.bytes_needed = offset + last_stored + (static_cast<std::uint64_t>(width) + 7) / 8;
  info.palette = light1 && !light0   ? bmp_info::colours::as_stored
                 : light0 && !light1 ? bmp_info::colours::inverted
                 : light0            ? bmp_info::colours::all_white
                                     : bmp_info::colours::all_black;
  return info;
}

std::string bmp_file(const bitmap& image) {
  constexpr std::uint32_t pixels_at = file_header + 40 + 2 * 4;
  const std::uint32_t w = image.width(), h = image.height();
  const std::size_t stride = (std::size_t{w} + 31) / 32 * 4, used = image.stride();
  const std::size_t size = pixels_at + stride * h;
  std::string out(size, '\0');
  out[0] = 'B';
  out[1] = 'M';
  put32(out, 2, static_cast<std::uint32_t>(size));  // past 4 GiB only for images the format cannot hold
  put32(out, 10, pixels_at);
  put32(out, 14, 40);
  put32(out, 18, w);
  put32(out, 22, h);
  put16(out, 26, 1);  // planes
  put16(out, 28, 1);  // bits per pixel
  put32(out, 34, static_cast<std::uint32_t>(stride * h));
  put32(out, 38, 3780);  // 96 dots per inch, as Pillow writes
  put32(out, 42, 3780);
  put32(out, 46, 2);  // colours used, and important
  put32(out, 50, 2);
  put32(out, 58, 0x00FFFFFF);  // entry 0 black (all zero), entry 1 white
  const unsigned rest = w % 8;
  const auto tail = static_cast<std::uint8_t>(rest ? 0xFF << (8 - rest) : 0xFF);
  for (std::uint32_t y = 0; y < h; ++y) {
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data()) + pixels_at + std::size_t{h - 1 - y} * stride;
    std::memcpy(dst, image.row(y), used);
    dst[used - 1] &= tail;  // clean padding bits
  }
  return out;
}

}  // namespace scalekit::jobs::rle
