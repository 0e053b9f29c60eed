#include "scalekit/jobs/rle/rle.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "run_command.h"
#include "scalekit/core/process_pool.h"

namespace rle = scalekit::jobs::rle;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Noise with long runs, so that both short runs and chunk-splitting runs appear.
rle::bitmap random_image(std::uint32_t w, std::uint32_t h, std::uint32_t seed) {
  std::mt19937 rng(seed);
  rle::bitmap b(w, h);
  for (std::uint32_t y = 0; y < h; ++y) {
    bool bit = rng() & 1;
    for (std::uint32_t x = 0; x < w; ++x) {
      if (rng() % (y % 3 == 0 ? 3 : 90) == 0) bit = !bit;
      b.set(x, y, bit);
    }
  }
  return b;
}

// The reference: the seed's algorithm, bit by bit.
std::string reference_encode(const rle::bitmap& b) {
  std::string out;
  out += static_cast<char>(b.width() & 0xFF);
  out += static_cast<char>(b.width() >> 8);
  out += static_cast<char>(b.height() & 0xFF);
  out += static_cast<char>(b.height() >> 8);
  for (std::uint32_t y = 0; y < b.height(); ++y)
    for (std::uint32_t c = 0; c < b.width(); c += 127) {
      const std::uint32_t end = std::min(b.width(), c + 127);
      int count = 1;
      bool last = b.get(c, y);
      for (std::uint32_t x = c + 1; x < end; ++x) {
        if (b.get(x, y) != last) {
          out += static_cast<char>(count | (last ? 128 : 0));
          count = 0;
          last = !last;
        }
        ++count;
      }
      out += static_cast<char>(count | (last ? 128 : 0));
    }
  return out;
}

}  // namespace

// The worked example of shared/spec/rle-format.md, byte for byte.
TEST(Rle, TheSpecsExample) {
  rle::bitmap b(255, 4);
  for (std::uint32_t x = 0; x < 255; ++x) {
    b.set(x, 1, true);
    b.set(x, 2, x % 2 == 0);
    b.set(x, 3, x < 200);
  }
  const std::string out = rle::encode(b);
  EXPECT_EQ(hex(out.substr(0, 10)), "ff0004007f7f01ffff81");
  EXPECT_EQ(out.size(), 4u + 3 + 3 + 255 + 4);
  EXPECT_EQ(hex(out.substr(out.size() - 4)), "ffc93601");
  EXPECT_EQ(static_cast<unsigned char>(out[10]), 0x81);  // row 2 starts white
  auto back = rle::decode(out);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(back.value() == b);
}

TEST(Rle, MatchesTheSeedsAlgorithmAndRoundTripsAtAnyWidth) {
  for (std::uint32_t w : {1u, 2u, 7u, 8u, 63u, 64u, 65u, 126u, 127u, 128u, 254u, 255u, 256u, 1000u, 4099u}) {
    for (std::uint32_t h : {1u, 3u, 17u}) {
      const auto b = random_image(w, h, w * 31 + h);
      const std::string out = rle::encode(b);
      EXPECT_EQ(out, reference_encode(b)) << w << "x" << h;
      auto back = rle::decode(out);
      ASSERT_TRUE(back.ok()) << back.error().to_string();
      EXPECT_TRUE(back.value() == b) << w << "x" << h;
    }
  }
  EXPECT_EQ(rle::encode(rle::bitmap(0, 5)), std::string("\0\0\5\0", 4));
  EXPECT_TRUE(rle::decode(std::string("\0\0\5\0", 4)).ok());
}

TEST(Rle, BadDataIsAnErrorNamingTheOffset) {
  auto error_of = [](const std::string& data) {
    auto r = rle::decode(data);
    return r.ok() ? std::string("decoded") : r.error().message();
  };
  EXPECT_EQ(error_of("\x01"), "offset 0: the 4-byte header is cut short (1 bytes)");
  const std::string head("\x0A\x00\x02\x00", 4);  // 10x2
  EXPECT_EQ(error_of(head + "\x8A"),
            "offset 0: the header says 10x2, which needs at least 2 bytes of runs; the file has 1");
  EXPECT_EQ(error_of(head + std::string("\x85\x05\x00\x01", 4)), "offset 6: a zero-length run");
  EXPECT_EQ(error_of(head + "\x8A\x06\x05"), "offset 6: a run of 5 pixels from x = 6 overflows row 1 (width 10)");
  EXPECT_EQ(error_of(head + "\x85\x05\x03"), "offset 7: the data ends in row 1 at pixel 3 of 10");
  EXPECT_EQ(error_of(head + "\x8A\x0A\x01"),
            "offset 6: 1 bytes after the last row (the size in the header disagrees with the data)");
  // A tiny file claiming a huge image is refused before anything is allocated.
  EXPECT_NE(error_of(std::string("\xff\xff\xff\xff", 4) + "\x7f").find("needs at least"), std::string::npos);
}

TEST(Rle, BmpFilesRoundTripThroughTheImageLibraries) {
  temp_dir d("rle-bmp");
  const auto b = random_image(301, 7, 5);
  ASSERT_TRUE(rle::save_bmp(b, d / "x.bmp").ok());
  rle::source_kind how;
  auto back = rle::load(d / "x.bmp", &how);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(how, rle::source_kind::one_bit);
  EXPECT_TRUE(back.value() == b);
  // A grey PNG goes through libvips and a threshold at 128.
  auto r = scalekit::testing::run_command("/usr/bin/convert -size 10x1 gradient:black-white " + (d / "g.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto grey = rle::load(d / "g.png", &how);
  ASSERT_TRUE(grey.ok()) << grey.error().to_string();
  EXPECT_EQ(how, rle::source_kind::converted);
  EXPECT_FALSE(grey->get(0, 0));
  EXPECT_TRUE(grey->get(9, 0));
  std::ofstream(d / "text.bmp") << "not an image at all";
  EXPECT_FALSE(rle::load(d / "text.bmp").ok());
  EXPECT_FALSE(rle::load(d / "missing.bmp").ok());
}

TEST(Rle, RowsOnAnyExecutorGiveTheSameFile) {
  temp_dir d("rle-exec");
  const auto b = random_image(1000, 333, 9);
  ASSERT_TRUE(rle::save_bmp(b, d / "in.bmp").ok());
  const std::string expected = rle::encode(b);
  for (auto kind : {scalekit::core::executor_kind::serial, scalekit::core::executor_kind::threads,
                    scalekit::core::executor_kind::processes}) {
    auto ex = scalekit::core::make_executor(kind, {.jobs = 3});
    auto st = rle::compress_file(d / "in.bmp", d / "out.rle", *ex);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_EQ(st->rle_bytes, expected.size());
    EXPECT_EQ(st->pixels(), 1000u * 333u);
    EXPECT_TRUE(slurp(d / "out.rle") == expected) << static_cast<int>(kind);
  }
  ASSERT_TRUE(rle::decompress_file(d / "out.rle", d / "back.bmp").ok());
  EXPECT_TRUE(rle::load(d / "back.bmp").value() == b);
  std::ofstream(d / "bad.rle") << std::string("\x0A\x00\x02\x00\x80", 5);
  const auto bad = rle::decompress_file(d / "bad.rle", d / "bad.bmp").error();
  EXPECT_NE(bad.message().find("bad.rle': offset 0"), std::string::npos) << bad.message();
  EXPECT_FALSE(std::filesystem::exists(d / "bad.bmp"));
}

int main(int argc, char** argv) {
  rle::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
