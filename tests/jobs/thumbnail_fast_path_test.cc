// The fast path's own parsers on made-up bytes: the EXIF orientation reader
// (both byte orders, every cut), and the PNG decoder's unfiltering (every
// filter type, grey and RGB), its box average while decoding, and its
// refusals (every prefix of a file).

#include "thumbnail/png_decode.h"

#include <gtest/gtest.h>
#include <libdeflate.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "thumbnail/exif_orientation.h"
#include "thumbnail/resize.h"

namespace d = scalekit::jobs::thumbnail::detail;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// APP1 bytes holding one IFD0 entry: tag, type, count 1, value.
std::string exif(bool little, std::uint16_t tag, std::uint16_t type, std::uint16_t value) {
  const auto u16 = [&](std::uint16_t v) {
    return little ? std::string{static_cast<char>(v), static_cast<char>(v >> 8)}
                  : std::string{static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  const auto u32 = [&](std::uint32_t v) {
    return little ? u16(v & 0xFFFF) + u16(v >> 16) : u16(v >> 16) + u16(v & 0xFFFF);
  };
  std::string s("Exif\0\0", 6);
  s += little ? "II" : "MM";
  s += u16(42) + u32(8) + u16(2);               // IFD0 at 8, two entries
  s += u16(0x010F) + u16(2) + u32(4) + u32(0);  // Make, ignored
  s += u16(tag) + u16(type) + u32(1) + u16(value) + u16(0);
  return s + u32(0);
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// A PNG of `pixels` (w x h, `channels` 1 or 3), row y filtered with type y % 5
// by the specification's reference formulas; with a `palette` (RGB triples),
// an indexed PNG whose indices are `pixels` (channels 1).
std::string png_of(const std::vector<std::uint8_t>& pixels, std::uint32_t w, std::uint32_t h, int channels,
                   const std::string& palette = {}) {
  const std::size_t stride = std::size_t{w} * channels;
  std::string raw;
  for (std::uint32_t y = 0; y < h; ++y) {
    const int type = static_cast<int>(y % 5);
    raw += static_cast<char>(type);
    for (std::size_t i = 0; i < stride; ++i) {
      const int x = pixels[y * stride + i];
      const int a = i >= static_cast<std::size_t>(channels) ? pixels[y * stride + i - channels] : 0;
      const int b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const int c = y > 0 && i >= static_cast<std::size_t>(channels) ? pixels[(y - 1) * stride + i - channels] : 0;
      const int pred = type == 0 ? 0 : type == 1 ? a : type == 2 ? b : type == 3 ? (a + b) / 2 : paeth(a, b, c);
      raw += static_cast<char>((x - pred) & 0xFF);
    }
  }
  libdeflate_compressor* z = libdeflate_alloc_compressor(6);
  std::string zdata(libdeflate_zlib_compress_bound(z, raw.size()), '\0');
  zdata.resize(libdeflate_zlib_compress(z, raw.data(), raw.size(), zdata.data(), zdata.size()));
  libdeflate_free_compressor(z);
  const auto chunk = [](const std::string& type, const std::string& body) {
    const std::string tb = type + body;
    return be32(static_cast<std::uint32_t>(body.size())) + tb + be32(libdeflate_crc32(0, tb.data(), tb.size()));
  };
  const char colour = !palette.empty() ? 3 : channels == 3 ? 2 : 0;
  const std::string ihdr = be32(w) + be32(h) + std::string{8, colour, 0, 0, 0};
  const std::size_t half = zdata.size() / 2;  // two IDATs, as encoders write
  return std::string("\x89PNG\r\n\x1A\n", 8) + chunk("IHDR", ihdr) +
         (palette.empty() ? std::string() : chunk("PLTE", palette)) + chunk("IDAT", zdata.substr(0, half)) +
         chunk("IDAT", zdata.substr(half)) + chunk("IEND", "");
}

}  // namespace

TEST(ThumbnailExifOrientation, ReadsBothByteOrdersAndRefusesWhatIsNotIt) {
  EXPECT_EQ(d::exif_orientation(exif(true, 0x0112, 3, 6)), 6);
  EXPECT_EQ(d::exif_orientation(exif(false, 0x0112, 3, 8)), 8);
  EXPECT_EQ(d::exif_orientation(exif(true, 0x0112, 3, 9)), 1);  // out of range
  EXPECT_EQ(d::exif_orientation(exif(true, 0x0112, 4, 6)), 1);  // not a SHORT
  EXPECT_EQ(d::exif_orientation(exif(true, 0x0110, 3, 6)), 1);  // another tag
  EXPECT_EQ(d::exif_orientation("JFIF"), 1);
  // Every cut: never read past the end (ASan would say), 1 once the tag is gone.
  const std::string whole = exif(false, 0x0112, 3, 3);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const int o = d::exif_orientation(std::string_view(whole).substr(0, n));
    EXPECT_TRUE(o == 1 || o == 3) << n;
  }
}

TEST(ThumbnailPngDecode, UndoesEveryFilterInGreyAndRgb) {
  std::mt19937 rng(15);
  for (const int channels : {1, 3}) {
    const std::uint32_t w = 37, h = 23;
    std::vector<std::uint8_t> pixels(std::size_t{w} * h * channels);
    for (std::size_t i = 0; i < pixels.size(); ++i)  // smooth plus noise: every predictor gets exercised
      pixels[i] = static_cast<std::uint8_t>((i * 7 / channels) % 200 + rng() % 40);
    const std::string png = png_of(pixels, w, h, channels);
    d::raster r;
    ASSERT_TRUE(d::decode_png(png, 1'000'000, r)) << channels;
    EXPECT_EQ(r.width, w);
    EXPECT_EQ(r.height, h);
    EXPECT_EQ(r.channels, static_cast<std::uint32_t>(channels));
    EXPECT_EQ(r.data, pixels) << channels;
    EXPECT_FALSE(d::decode_png(png, std::uint64_t{w} * h - 1, r));  // over the pixel limit
    // Every prefix is refused (a file cut short goes to libvips), never read past.
    for (std::size_t n = 0; n < png.size(); n += 7)
      EXPECT_FALSE(d::decode_png(std::string_view(png).substr(0, n), 1'000'000, r)) << n;
    std::string bad = png;
    bad[bad.size() / 2] ^= 0x40;  // a flipped bit: the CRC or the checksum says so
    EXPECT_FALSE(d::decode_png(bad, 1'000'000, r));
  }
}

// Decoded for a thumbnail, the rows are box-averaged as they are unfiltered:
// the thumbnail is the same, bit for bit, as from the full-size decode.
TEST(ThumbnailPngDecode, ShrunkWhileDecodingGivesTheSameThumbnail) {
  std::mt19937 rng(16);
  for (const int channels : {1, 3}) {
    for (const auto& [w, h] : {std::pair{157u, 93u}, std::pair{64u, 300u}, std::pair{20u, 10u}}) {
      std::vector<std::uint8_t> pixels(std::size_t{w} * h * channels);
      for (std::size_t i = 0; i < pixels.size(); ++i)
        pixels[i] = static_cast<std::uint8_t>((i * 5 / channels) % 180 + rng() % 70);
      const std::string png = png_of(pixels, w, h, channels);
      const std::string name = std::to_string(channels) + " " + std::to_string(w) + "x" + std::to_string(h);
      d::raster full, shrunk;
      ASSERT_TRUE(d::decode_png(png, 1'000'000, full)) << name;
      const auto size = d::decode_png_shrunk(png, 16, 16, 1'000'000, shrunk);
      ASSERT_TRUE(size.has_value()) << name;
      EXPECT_EQ(size->width, w);
      EXPECT_EQ(size->height, h);
      const d::size2 t = d::fit_in_box(w, h, 16, 16);
      EXPECT_LT(shrunk.width, 4 * t.width) << name;  // shrunk, not just decoded
      EXPECT_EQ(d::resize(shrunk, t.width, t.height).data, d::resize(full, t.width, t.height).data) << name;
      EXPECT_FALSE(d::decode_png_shrunk(png, 16, 16, std::uint64_t{w} * h - 1, shrunk)) << name;
    }
  }
}

// A palette image comes out as RGB, shrunk or not; an index past the
// palette's end anywhere (even in the rows and columns a box average leaves
// out) sends the file to libvips.
TEST(ThumbnailPngDecode, LooksUpPalettesAndRefusesIndicesPastTheEnd) {
  const std::uint32_t w = 61, h = 45;
  const std::string palette = "\x10\x20\x30\x40\x50\x60\x70\x80\x90\xA0\xB0\xC0\xD0\xE0\xF0";  // 5 entries
  std::vector<std::uint8_t> index(std::size_t{w} * h);
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<std::uint8_t>((i * 7 + i / w) % 5);
  d::raster r;
  ASSERT_TRUE(d::decode_png(png_of(index, w, h, 1, palette), 1'000'000, r));
  ASSERT_EQ(r.channels, 3u);
  for (std::size_t i = 0; i < index.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c)
      ASSERT_EQ(r.data[3 * i + c], static_cast<std::uint8_t>(palette[3 * index[i] + c])) << i;
  EXPECT_TRUE(d::decode_png_shrunk(png_of(index, w, h, 1, palette), 8, 8, 1'000'000, r).has_value());
  EXPECT_EQ(r.channels, 3u);
  for (const std::size_t at : {std::size_t{0}, index.size() / 2, index.size() - 1}) {  // the last: left out by the box
    auto bad = index;
    bad[at] = 5;
    const std::string png = png_of(bad, w, h, 1, palette);
    EXPECT_FALSE(d::decode_png(png, 1'000'000, r)) << at;
    EXPECT_FALSE(d::decode_png_shrunk(png, 8, 8, 1'000'000, r).has_value()) << at;
  }
}

TEST(ThumbnailResize, FitsTheBoxAsLibvipsAndTurnsUpright) {
  EXPECT_EQ(d::fit_in_box(2400, 1600, 64, 64).height, 43u);
  EXPECT_EQ(d::fit_in_box(100, 400, 64, 64).width, 16u);
  EXPECT_EQ(d::fit_in_box(30, 20, 64, 64).width, 30u);    // never enlarged
  EXPECT_EQ(d::fit_in_box(3000, 10, 64, 64).height, 1u);  // at least one pixel
  // 2x1 RGB: red, blue. Orientation 6 turns it to 1x2 (red on top); 2 mirrors it.
  d::raster r{2, 1, 3, {255, 0, 0, 0, 0, 255}};
  const d::raster six = d::orient(r, 6);
  EXPECT_EQ(six.width, 1u);
  EXPECT_EQ(six.height, 2u);
  EXPECT_EQ(six.data, (std::vector<std::uint8_t>{255, 0, 0, 0, 0, 255}));
  EXPECT_EQ(d::orient(r, 2).data, (std::vector<std::uint8_t>{0, 0, 255, 255, 0, 0}));
  const d::raster flat{40, 30, 1, std::vector<std::uint8_t>(1200, 77)};
  const d::raster small = d::resize(flat, 8, 6);
  EXPECT_EQ(small.data, std::vector<std::uint8_t>(48, 77));  // a flat image stays flat
}
