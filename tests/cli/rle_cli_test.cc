// Integration tests of `scalekit rle`: the real binary against the seed's
// Python compressor and decompressor on images Pillow made.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

const std::string python = "/usr/bin/python3 ";
const std::string images_py = python + SCALEKIT_SEEDS_DIR "/../rle_images.py ";
const std::string seed_compress = python + SCALEKIT_SEEDS_DIR "/rle_compress.py ";
const std::string seed_decompress = python + SCALEKIT_SEEDS_DIR "/rle_decompress.py ";

const char* const one_bit_images[] = {"w1x1", "w1x9", "w127x5", "w128x3", "w255x4", "w300x17", "w1000x33"};

void make_images(const temp_dir& d) {
  auto r = run_command(images_py + "make " + d.path.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

bool same_pixels(const std::string& a, const std::string& b) {
  auto r = run_command(images_py + "same " + a + " " + b);
  EXPECT_EQ(r.err, "");
  return r.exit_code == 0;
}

}  // namespace

// Byte-identical to the seed's compress_image, at widths around the 127-bit
// chunk, on every row executor; and back to the same pixels.
TEST(CliRle, SameBytesAsTheSeedAndRoundTrips) {
  temp_dir d("cli-rle");
  make_images(d);
  const char* executors[] = {"serial", "threads", "processes"};
  int k = 0;
  for (const char* name : one_bit_images) {
    const std::string in = d / (std::string(name) + ".bmp");
    auto py = run_command(seed_compress + in + " " + d / "py.rle threads");
    ASSERT_EQ(py.exit_code, 0) << py.err;
    const char* ex = executors[k++ % 3];
    auto r = run_command(bin + " --json rle compress " + in + " " + d / "sk.rle --row-executor " + ex + " -j 3");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(slurp(d / "sk.rle") == slurp(d / "py.rle")) << name << " on " << ex;
    // The portable kernel too, where the CPU would pick the AVX-512 one.
    auto scalar = run_command("SCALEKIT_SIMD_TARGET=AVX2 " + bin + " rle compress " + in + " " + d / "scalar.rle");
    ASSERT_EQ(scalar.exit_code, 0) << scalar.err;
    EXPECT_TRUE(slurp(d / "scalar.rle") == slurp(d / "py.rle")) << name << " on the scalar kernel";
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["output_bytes"].get<std::size_t>(), slurp(d / "py.rle").size());

    auto back = run_command(bin + " rle decompress " + d / "sk.rle " + d / "back.bmp");
    ASSERT_EQ(back.exit_code, 0) << back.err;
    EXPECT_TRUE(same_pixels(in, d / "back.bmp")) << name;
  }
  // The seed's decompressor reads what we wrote (slow: putpixel; a small image).
  ASSERT_EQ(run_command(bin + " rle compress " + d / "w300x17.bmp " + d / "sk.rle").exit_code, 0);
  ASSERT_EQ(run_command(seed_decompress + d / "sk.rle " + d / "seed_back.bmp").exit_code, 0);
  EXPECT_TRUE(same_pixels(d / "w300x17.bmp", d / "seed_back.bmp"));
}

// Colour input, and a 1-bit BMP as ImageMagick writes it (a header FreeImage
// does not take, so libvips reads it): the same bytes as the seed.
TEST(CliRle, OtherEncodingsOfTheSameBitsGiveTheSameFile) {
  temp_dir d("cli-rle-enc");
  make_images(d);
  auto py = run_command(seed_compress + d / "colour.bmp " + d / "py.rle threads");
  ASSERT_EQ(py.exit_code, 0) << py.err;
  ASSERT_EQ(run_command(bin + " rle compress " + d / "colour.bmp " + d / "sk.rle").exit_code, 0);
  EXPECT_TRUE(slurp(d / "sk.rle") == slurp(d / "py.rle"));

  ASSERT_EQ(run_command("/usr/bin/convert " + d / "w1000x33.bmp -monochrome " + d / "magick.bmp").exit_code, 0);
  ASSERT_EQ(run_command(seed_compress + d / "w1000x33.bmp " + d / "py.rle threads").exit_code, 0);
  auto r = run_command(bin + " rle compress " + d / "magick.bmp " + d / "sk.rle");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(slurp(d / "sk.rle") == slurp(d / "py.rle"));

  // Grey input is thresholded at 128: pixel values (x * 4 + y) % 256.
  ASSERT_EQ(run_command(bin + " rle compress " + d / "grey.png " + d / "grey.rle").exit_code, 0);
  const std::string grey = slurp(d / "grey.rle");
  ASSERT_GE(grey.size(), 5u);
  EXPECT_EQ(grey.substr(0, 4), std::string("\x40\x00\x10\x00", 4));  // 64 x 16
  // Row 0: x * 4 < 128 for x < 32 → 32 black, 32 white.
  EXPECT_EQ(static_cast<unsigned char>(grey[4]), 32u);
  EXPECT_EQ(static_cast<unsigned char>(grey[5]), 0x80u | 32u);
}

// The seed's nested pools: all four combinations of its timing table give the
// same files; bad images are counted and named, the rest go on.
TEST(CliRle, CompressDirOnAllFourCombinations) {
  temp_dir d("cli-rle-dir");
  make_images(d);
  std::filesystem::remove(d / "grey.png");
  std::string reference;
  for (const char* images : {"threads", "processes"}) {
    for (const char* rows : {"threads", "processes"}) {
      temp_dir out("cli-rle-out");
      auto r = run_command(bin + " --json rle compress-dir " + d.path.string() + " " + out.path.string() +
                           " --image-executor " + images + " --row-executor " + rows + " -j 2 --row-jobs 2");
      EXPECT_EQ(r.exit_code, 1) << r.err;  // two files fail
      const auto j = nlohmann::json::parse(r.out);
      EXPECT_EQ(j["images"], 8);
      EXPECT_EQ(j["failed"], 2);
      EXPECT_NE(r.err.find("not_an_image.bmp' is not an image"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("too_wide.bmp' is 65536x1; the RLE format holds at most 65535"), std::string::npos) << r.err;
      EXPECT_FALSE(std::filesystem::exists(out / "not_an_image.rle"));
      std::string all;
      for (const char* name : one_bit_images) all += slurp(out / (std::string(name) + ".rle"));
      all += slurp(out / "colour.rle");
      if (reference.empty()) {
        reference = all;
        // Compare one against the seed, the rest against this.
        ASSERT_EQ(run_command(seed_compress + d / "w1000x33.bmp " + d / "py.rle threads").exit_code, 0);
        EXPECT_TRUE(slurp(out / "w1000x33.rle") == slurp(d / "py.rle"));
      }
      EXPECT_TRUE(all == reference) << images << "/" << rows;
    }
  }
}

// Decompression validates and names the file and offset; nothing is written.
TEST(CliRle, BadFilesAreErrorsNamingFileAndOffset) {
  temp_dir d("cli-rle-bad");
  struct bad_case {
    const char* name;
    std::string bytes;
    const char* expect;
  };
  const bad_case cases[] = {
      {"short.rle", std::string("\x0A\x00", 2), "short.rle': offset 0"},
      {"zero.rle", std::string("\x02\x00\x01\x00\x80", 5), "zero.rle': offset 4: a zero-length run"},
      {"overflow.rle", std::string("\x0A\x00\x01\x00\x8B", 5), "overflow.rle': offset 4"},
      {"small.rle", std::string("\x0A\x00\x02\x00\x8A", 5), "small.rle': offset 0: the header says 10x2"},
      {"truncated.rle", std::string("\x0A\x00\x03\x00\x8A\x05\x05", 7), "truncated.rle': offset 7"},
      {"trailing.rle", std::string("\x0A\x00\x01\x00\x8A\x01", 6), "trailing.rle': offset 5"},
      {"huge.rle", std::string("\xFF\xFF\xFF\xFF\x7F", 5), "huge.rle': "},
  };
  for (const auto& c : cases) {
    std::ofstream(d / c.name, std::ios::binary) << c.bytes;
    auto r = run_command(bin + " rle decompress " + d / c.name + " " + d / "out.bmp");
    EXPECT_EQ(r.exit_code, 1) << c.name;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
    EXPECT_FALSE(std::filesystem::exists(d / "out.bmp")) << c.name;
  }
  auto missing = run_command(bin + " rle compress " + d / "missing.bmp " + d / "out.rle");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot read '" + d / "missing.bmp'"), std::string::npos) << missing.err;
  auto usage = run_command(bin + " rle compress-dir " + d.path.string() + " " + d / "o --row-executor gpu");
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

// scalekit reads 1-bit BMPs itself: with no scalekit-heavy beside it,
// compress, compress-dir (on worker processes too) and decompress work. Any
// other image is handed over to scalekit-heavy; without it, a clear error and
// nothing written.
TEST(CliRle, OneBitBmpsNeedNoHeavyBinaryOtherImagesDo) {
  temp_dir d("cli-rle-alone");
  make_images(d);
  const std::filesystem::path alone = d.path / "alone", pages = d.path / "pages";
  std::filesystem::create_directories(alone);
  std::filesystem::create_directories(pages);
  std::filesystem::copy_file(bin, alone / "scalekit");
  std::filesystem::permissions(alone / "scalekit", std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  const std::string sk = (alone / "scalekit").string();

  auto r = run_command(sk + " -q rle compress " + d / "w1000x33.bmp " + d / "a.rle --row-executor processes -j 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_command(seed_compress + d / "w1000x33.bmp " + d / "py.rle threads").exit_code, 0);
  EXPECT_TRUE(slurp(d / "a.rle") == slurp(d / "py.rle"));
  ASSERT_EQ(run_command(sk + " -q rle decompress " + d / "a.rle " + d / "back.bmp").exit_code, 0);
  EXPECT_TRUE(same_pixels(d / "w1000x33.bmp", d / "back.bmp"));

  for (const char* name : {"w127x5", "w300x17", "w1000x33"})
    std::filesystem::copy_file(d / (std::string(name) + ".bmp"), pages / (std::string(name) + ".bmp"));
  r = run_command(sk + " --json rle compress-dir " + pages.string() + " " + (pages / "out").string() + " -j 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["images"], 3);
  EXPECT_TRUE(slurp(pages / "out" / "w1000x33.rle") == slurp(d / "py.rle"));

  r = run_command(sk + " -q rle compress " + d / "colour.bmp " + d / "b.rle");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("scalekit rle: cannot run '" + (alone / "scalekit-heavy").string() + "'"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(d / "b.rle"));
  std::filesystem::copy_file(d / "colour.bmp", pages / "colour.bmp");  // one image needs scalekit-heavy: all go
  r = run_command(sk + " -q rle compress-dir " + pages.string() + " " + (pages / "out2").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot run '" + (alone / "scalekit-heavy").string() + "'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(pages / "out2"));
  EXPECT_EQ(run_command(sk + " -q --version").exit_code, 0);  // the rest works alone
}
