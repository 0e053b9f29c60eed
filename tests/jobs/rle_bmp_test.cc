#include "scalekit/jobs/rle/bmp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "run_command.h"
#include "scalekit/core/executor.h"
#include "scalekit/jobs/rle/rle.h"

namespace rle = scalekit::jobs::rle;
using scalekit::status_code;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

rle::bitmap noise(std::uint32_t w, std::uint32_t h, std::uint32_t seed) {
  std::mt19937 rng(seed);
  rle::bitmap b(w, h);
  for (std::uint32_t y = 0; y < h; ++y) {
    bool bit = rng() & 1;
    for (std::uint32_t x = 0; x < w; ++x) {
      if (rng() % 9 == 0) bit = !bit;
      b.set(x, y, bit);
    }
  }
  return b;
}

void put(std::string& s, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// How to write a test BMP: the header's size, the row order, the palette.
struct bmp_shape {
  std::uint32_t dib = 40;    // 12 (OS/2 core), 40, 108, 124...
  bool top_down = false;     // a negative height
  bool white_first = false;  // palette entry 0 white: stored bits are inverted
  std::uint32_t entry0 = 0;  // 0xRRGGBB of entry 0 (with white_first: of entry 1)
  std::uint32_t entry1 = 0xFFFFFF;
  bool short_last_row = false;  // the last stored row without its padding
  std::uint32_t bpp = 1;
};

// A BMP file of `b` written by hand, the way the shape says.
std::string make_bmp(const rle::bitmap& b, const bmp_shape& s) {
  const std::uint32_t w = b.width(), h = b.height();
  const std::size_t entry = s.dib == 12 ? 3 : 4, offset = 14 + s.dib + 2 * entry;
  const std::size_t stride = (std::size_t{w} + 31) / 32 * 4;
  std::string f(offset + stride * h, '\0');
  f[0] = 'B';
  f[1] = 'M';
  put(f, 2, f.size(), 4);
  put(f, 10, offset, 4);
  put(f, 14, s.dib, 4);
  if (s.dib == 12) {
    put(f, 18, w, 2);
    put(f, 20, h, 2);
    put(f, 22, 1, 2);
    put(f, 24, s.bpp, 2);
  } else {
    put(f, 18, w, 4);
    put(f, 22, s.top_down ? static_cast<std::uint32_t>(-static_cast<std::int32_t>(h)) : h, 4);
    put(f, 26, 1, 2);
    put(f, 28, s.bpp, 2);
  }
  const std::uint32_t dark = s.entry0, bright = s.entry1;
  const std::uint32_t e0 = s.white_first ? bright : dark, e1 = s.white_first ? dark : bright;
  put(f, 14 + s.dib, e0, 3);  // blue, green, red: little-endian 0xRRGGBB
  put(f, 14 + s.dib + entry, e1, 3);
  for (std::uint32_t y = 0; y < h; ++y) {
    const std::size_t stored = s.top_down ? y : h - 1 - y;
    for (std::uint32_t x = 0; x < w; ++x) {
      if (b.get(x, y) != s.white_first) f[offset + stored * stride + x / 8] |= static_cast<char>(0x80 >> (x % 8));
    }
  }
  if (s.short_last_row) f.resize(f.size() - (stride - (w + 7) / 8));
  return f;
}

rle::bitmap one_colour(std::uint32_t w, std::uint32_t h, bool white) {
  rle::bitmap b(w, h);
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) b.set(x, y, white);
  return b;
}

}  // namespace

// Every header and row order a 1-bit BMP comes in, palettes either way
// round: the same pixels, read by hand.
TEST(RleBmp, ReadsEveryHeaderRowOrderAndPalette) {
  temp_dir d("rle-bmp-read");
  const auto b = noise(301, 13, 7);  // 301 bits: 38 bytes a row, 40 stored
  const bmp_shape shapes[] = {
      {.dib = 40},
      {.dib = 40, .top_down = true},
      {.dib = 12},
      {.dib = 108, .white_first = true},
      {.dib = 124, .top_down = true, .white_first = true},
      {.dib = 52},
      {.dib = 56},
      {.dib = 40, .entry0 = 0x102030, .entry1 = 0xF0E0D0},  // dark and light, not black and white
      {.dib = 40, .short_last_row = true},
  };
  int k = 0;
  for (const auto& s : shapes) {
    const std::string path = d / ("s" + std::to_string(k++) + ".bmp");
    std::ofstream(path, std::ios::binary) << make_bmp(b, s);
    rle::source_kind how = rle::source_kind::converted;
    auto r = rle::load(path, &how);
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().to_string();
    EXPECT_EQ(how, rle::source_kind::one_bit);
    EXPECT_TRUE(r.value() == b) << path;
    EXPECT_FALSE(rle::needs_converter(path));
    // compress_file reads bands from the file itself: the same runs.
    auto ex = scalekit::core::make_executor(scalekit::core::executor_kind::threads, {.jobs = 3});
    auto st = rle::compress_file(path, d / "out.rle", *ex);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_TRUE(slurp(d / "out.rle") == rle::encode(b)) << path;
  }
}

// Both palette entries light, or both dark: the image is one colour.
TEST(RleBmp, APaletteOfOneColourIsOneColour) {
  temp_dir d("rle-bmp-one");
  const auto b = noise(130, 4, 1);
  std::ofstream(d / "white.bmp", std::ios::binary) << make_bmp(b, {.entry0 = 0xC0C0C0, .entry1 = 0xFFFFFF});
  std::ofstream(d / "black.bmp", std::ios::binary) << make_bmp(b, {.entry0 = 0, .entry1 = 0x404040});
  for (bool white : {true, false}) {
    const std::string path = d / (white ? "white.bmp" : "black.bmp");
    auto r = rle::load(path);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_TRUE(r.value() == one_colour(130, 4, white));
    auto ex = scalekit::core::make_executor(scalekit::core::executor_kind::serial);
    ASSERT_TRUE(rle::compress_file(path, d / "out.rle", *ex).ok());
    EXPECT_TRUE(slurp(d / "out.rle") == rle::encode(one_colour(130, 4, white)));
  }
}

// What is not a 1-bit BMP is for the converter; a 1-bit BMP whose headers
// contradict the file is an error naming it; a side over 65535 is refused
// from the header alone.
TEST(RleBmp, OtherImagesGoToTheConverterBrokenOnesAreErrors) {
  const auto b = noise(20, 3, 2);
  auto parse = [](const std::string& f) { return rle::parse_bmp(f, f.size()); };
  auto deep = make_bmp(b, {.bpp = 24});
  ASSERT_TRUE(parse(deep).ok());
  EXPECT_FALSE(parse(deep)->one_bit);
  EXPECT_FALSE(parse("\x89PNG\r\n\x1a\n and more")->one_bit);
  EXPECT_FALSE(parse("BM")->one_bit);  // too short to say
  std::string odd_header = make_bmp(b, {});
  put(odd_header, 14, 41, 4);  // a header size no BMP has
  EXPECT_FALSE(parse(odd_header)->one_bit);
  std::string rle8 = make_bmp(b, {});
  put(rle8, 30, 1, 4);  // compressed
  EXPECT_FALSE(parse(rle8)->one_bit);

  const auto info = parse(make_bmp(b, {}));
  ASSERT_TRUE(info.ok() && info->one_bit);
  EXPECT_EQ(info->width, 20u);
  EXPECT_EQ(info->height, 3u);
  EXPECT_EQ(info->stride, 4u);
  EXPECT_EQ(info->row_step, -4);
  EXPECT_EQ(info->bytes_needed, 14u + 40 + 8 + 2 * 4 + 3);

  std::string no_width = make_bmp(b, {});
  put(no_width, 18, 0, 4);
  EXPECT_EQ(parse(no_width).error().code(), status_code::corruption);
  std::string no_height = make_bmp(b, {});
  put(no_height, 22, 0, 4);
  EXPECT_EQ(parse(no_height).error().code(), status_code::corruption);
  std::string inside = make_bmp(b, {});
  put(inside, 10, 20, 4);  // pixels inside the headers
  EXPECT_NE(parse(inside).error().message().find("inside its headers"), std::string::npos);
  const std::string whole = make_bmp(b, {});
  EXPECT_EQ(rle::parse_bmp(whole.substr(0, 56), 56).error().code(), status_code::corruption);  // no palette

  temp_dir d("rle-bmp-bad");
  std::ofstream(d / "cut.bmp", std::ios::binary) << whole.substr(0, whole.size() - 5);
  auto cut = rle::load(d / "cut.bmp");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code(), status_code::corruption);
  EXPECT_NE(cut.error().message().find("cut.bmp': a 1-bit BMP cut short"), std::string::npos) << cut.error().message();
  std::string huge = whole;
  put(huge, 18, 70000, 4);  // 70000 wide, far more than the file holds: the size is refused first
  std::ofstream(d / "huge.bmp", std::ios::binary) << huge;
  auto too_large = rle::load(d / "huge.bmp");
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().code(), status_code::too_large);
  EXPECT_NE(too_large.error().message().find("is 70000x3; the RLE format holds at most 65535"), std::string::npos);
  std::ofstream(d / "deep.bmp", std::ios::binary) << deep;
  EXPECT_TRUE(rle::needs_converter(d / "deep.bmp"));
  EXPECT_FALSE(rle::needs_converter(d / "missing.bmp"));  // load() says why
}

// What save_bmp writes is what Pillow writes for mode '1': the INFO header,
// black then white, rows bottom-up padded to 4 bytes, clean padding bits.
TEST(RleBmp, WritesWhatPillowWrites) {
  auto b = noise(21, 2, 3);
  for (std::uint32_t x = 0; x < 21; ++x) b.set(x, 1, true);
  const std::string f = rle::bmp_file(b);
  ASSERT_EQ(f.size(), 62u + 2 * 4);
  EXPECT_EQ(f.substr(0, 2), "BM");
  EXPECT_EQ(f.substr(54, 8), std::string("\0\0\0\0\xFF\xFF\xFF\0", 8));
  EXPECT_EQ(f.substr(62, 4), std::string("\xFF\xFF\xF8\0", 4));  // the bottom row first: all white, 21 bits
  auto info = rle::parse_bmp(f, f.size());
  ASSERT_TRUE(info.ok() && info->one_bit);
  EXPECT_EQ(info->palette, rle::bmp_info::colours::as_stored);
  rle::bitmap back(21, 2);
  for (std::uint32_t y = 0; y < 2; ++y) std::memcpy(back.row(y), rle::bmp_row(f, *info, y), back.stride());
  EXPECT_TRUE(back == b);
}

// The encoder's inverted reading gives the runs of the inverted image.
TEST(RleBmp, InvertedRowsEncodeAsTheInvertedImage) {
  for (std::uint32_t w : {1u, 63u, 64u, 65u, 127u, 128u, 254u, 1000u}) {
    const auto b = noise(w, 1, w);
    rle::bitmap inv(w, 1);
    for (std::uint32_t x = 0; x < w; ++x) inv.set(x, 0, !b.get(x, 0));
    std::string runs;
    rle::encode_row(b.row(0), w, runs, true);
    EXPECT_EQ(runs, rle::encode(inv).substr(4)) << w;
  }
}
