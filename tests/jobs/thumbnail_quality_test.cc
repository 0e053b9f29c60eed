// The thumbnail fast path (JPEG, plain PNG and simple WebP without libvips) against
// libvips' own thumbnail of the same image: the same size, and pixels within
// a PSNR of 30 dB (the resamplers differ in rounding and edge handling, not in
// what they show; a wrong orientation, colour order or scale gives under
// 15 dB). Also the cases it must leave to libvips, and that the result the job
// reports is the fast path's.

#include "thumbnail/fast_path.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vips/vips8>

#include "run_command.h"
#include "scalekit/core/input_file.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace th = scalekit::jobs::thumbnail;
using scalekit::testing::temp_dir;

namespace {

namespace fs = std::filesystem;

constexpr double min_psnr_db = 30;

struct pixels {
  int width = 0, height = 0, bands = 0;
  std::vector<unsigned char> data;
};

pixels pixels_of(vips::VImage im) {
  pixels p{im.width(), im.height(), im.bands(), {}};
  std::size_t size = 0;
  void* mem = im.cast(VIPS_FORMAT_UCHAR).write_to_memory(&size);
  p.data.assign(static_cast<unsigned char*>(mem), static_cast<unsigned char*>(mem) + size);
  g_free(mem);
  return p;
}

double psnr(const pixels& a, const pixels& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    const double d = static_cast<double>(a.data[i]) - b.data[i];
    sum += d * d;
  }
  const double mse = sum / static_cast<double>(a.data.size());
  return mse == 0 ? 99 : 10 * std::log10(255.0 * 255.0 / mse);
}

// The fast path on the file `in`, opened as the job opens it.
std::optional<th::report> fast(const std::string& in, const std::string& out, const th::options& o) {
  auto file = scalekit::core::open_input(in);
  EXPECT_TRUE(file.ok()) << in;
  return file.ok() ? th::detail::fast_from_file(*file, out, o) : std::nullopt;
}

struct images {
  temp_dir dir{"thumb-quality"};
  images() {
    const auto r = scalekit::testing::run_command(
        "/usr/bin/python3 " SCALEKIT_FIXTURES_DIR "/thumb_quality_images.py " + dir.path.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<fs::path> under(const char* sub) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir.path / sub)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

TEST(ThumbnailFastPath, MatchesLibvipsWithinThePsnrBound) {
  if (VIPS_INIT("thumbnail_quality_tests") != 0) FAIL() << "libvips did not start";
  images im;
  temp_dir out("thumb-quality-out");
  const auto inputs = im.under("take");
  ASSERT_GE(inputs.size(), 15u);
  for (const auto& [w, h] : {std::pair{64u, 64u}, std::pair{200u, 120u}}) {
    for (const auto& in : inputs) {
      const std::string name = in.filename().string() + " in " + std::to_string(w) + "x" + std::to_string(h);
      const std::string made = (out.path / (in.stem().string() + std::to_string(w) + ".png")).string();
      const auto r = fast(in.string(), made, {.width = w, .height = h});
      ASSERT_TRUE(r.has_value()) << name << ": declined";
      ASSERT_EQ(r->what, th::outcome::made) << name << ": " << r->reason;
      const pixels ours = pixels_of(vips::VImage::new_from_file(made.c_str()));
      // As the job's libvips path makes it: a tagged image converted to sRGB.
      auto* opt = vips::VImage::option()->set("height", static_cast<int>(h))->set("size", VIPS_SIZE_DOWN);
      if (vips::VImage::new_from_file(in.c_str()).get_typeof(VIPS_META_ICC_NAME) != 0)
        opt->set("export_profile", "srgb");
      const pixels theirs = pixels_of(vips::VImage::thumbnail(in.c_str(), static_cast<int>(w), opt));
      ASSERT_EQ(ours.width, theirs.width) << name;
      ASSERT_EQ(ours.height, theirs.height) << name;
      ASSERT_EQ(ours.bands, theirs.bands) << name;
      EXPECT_EQ(r->width, static_cast<std::uint32_t>(ours.width)) << name;
      EXPECT_EQ(r->height, static_cast<std::uint32_t>(ours.height)) << name;
      EXPECT_TRUE(r->width <= w && r->height <= h) << name;
      const double db = psnr(ours, theirs);
      EXPECT_GE(db, min_psnr_db) << name;
      std::printf("  %-24s %3ux%-3u %5.1f dB\n", name.c_str(), r->width, r->height, db);
    }
  }
  // The aspect ratio kept, orientation applied: 1200x800 turned is 64x43 or 43x64.
  const auto rot6 = fast((im.dir.path / "take/jrot6.jpg").string(), (out.path / "r6.png").string(), {});
  ASSERT_TRUE(rot6 && rot6->what == th::outcome::made);
  EXPECT_EQ(rot6->width, 64u);
  EXPECT_EQ(rot6->height, 43u);
  EXPECT_EQ(rot6->source_width, 800u);  // as stored
  EXPECT_EQ(rot6->source_height, 1200u);
}

// An ICC profile, transparency, animation, GIF and every file
// cut short go to libvips: nothing is written by the fast path, and the job
// still makes (or refuses) them as before.
TEST(ThumbnailFastPath, LeavesTheRestToLibvips) {
  images im;
  temp_dir out("thumb-quality-out");
  for (const auto& in : im.under("decline")) {
    const std::string made = (out.path / (in.filename().string() + ".png")).string();
    EXPECT_FALSE(fast(in.string(), made, {}).has_value()) << in;
    EXPECT_FALSE(fs::exists(made)) << in;
    const auto r = th::from_file(in.string(), made, {});
    const bool cut = in.stem() == "cut";
    EXPECT_EQ(r.what, cut ? th::outcome::failed : th::outcome::made) << in << ": " << r.reason;
    if (in.filename() == "cut.jpg") {  // libvips' words (a cut PNG it calls a read error)
      EXPECT_EQ(r.reason.rfind("truncated: ", 0), 0u) << r.reason;
    }
  }
}
