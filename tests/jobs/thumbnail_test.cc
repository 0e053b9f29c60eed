// Unit tests of the image jobs' pure parts and of a thumbnail made in memory:
// sizes, dummyimage paths, reports across the wire. (The HTTP layer the
// dummyimage server stands on is tested in tests/net/http_test.cc.)

#include <gtest/gtest.h>

#include "run_command.h"
#include "scalekit/jobs/dummyimage/dummyimage.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace th = scalekit::jobs::thumbnail;
namespace di = scalekit::jobs::dummyimage;
using scalekit::testing::temp_dir;

TEST(Thumbnail, ParseSize) {
  EXPECT_EQ(th::parse_size("64x48").value(), std::make_pair(64u, 48u));
  EXPECT_EQ(th::parse_size("128").value(), std::make_pair(128u, 128u));
  for (const char* bad : {"", "x", "0x5", "5x0", "64x", "x64", "10001x5", "-1x5", "64x48x2", "6 4"})
    EXPECT_FALSE(th::parse_size(bad).ok()) << bad;
}

TEST(Thumbnail, ReportsSurviveTheWire) {
  th::report r{th::outcome::failed, "truncated: premature end", 0, 0, 640, 480};
  const auto back = th::decode_report(th::encode_report(r));
  EXPECT_EQ(back.what, th::outcome::failed);
  EXPECT_EQ(back.reason, r.reason);
  EXPECT_EQ(back.source_width, 640u);
  EXPECT_EQ(back.source_height, 480u);
}

TEST(Dummyimage, ParseTarget) {
  const auto ok = di::parse_target("/320x240/fff/00aa00.png?x=1");
  ASSERT_EQ(ok.status, 200) << ok.message;
  EXPECT_EQ(ok.spec.width, 320u);
  EXPECT_EQ(ok.spec.height, 240u);
  EXPECT_EQ(ok.spec.bg[0], 255);
  EXPECT_EQ(ok.spec.fg[1], 0xaa);
  EXPECT_TRUE(ok.spec.png);
  EXPECT_FALSE(di::parse_target("/1x1/000/fff.jpg").spec.png);
  for (const char* nf : {"/", "/320x240", "/320x240/fff", "/320x240/fff/000.gif", "/a/b/c/d.jpg", "/320x240/fff/000"})
    EXPECT_EQ(di::parse_target(nf).status, 404) << nf;
  for (const char* bad : {"/0x240/fff/000.jpg", "/4001x2/fff/000.jpg", "/axb/fff/000.jpg", "/32x24/ffff/000.jpg",
                          "/32x24/fff/0g0.jpg", "/32x24/fff/.jpg"})
    EXPECT_EQ(di::parse_target(bad).status, 400) << bad;
}

// A rendered dummy image through the buffer path: the thumbnail fits the box.
TEST(Thumbnail, FromBufferAndFromFile) {
  temp_dir d("thumb-unit");
  di::image_spec spec;
  spec.width = 300;
  spec.height = 100;
  spec.png = true;
  const std::string png = di::render(spec);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const auto made = th::from_buffer(png, d / "t.png", {});
  ASSERT_EQ(made.what, th::outcome::made) << made.reason;
  EXPECT_EQ(made.width, 64u);
  EXPECT_EQ(made.height, 21u);
  EXPECT_EQ(made.source_width, 300u);
  const auto again = th::from_file(d / "t.png", d / "t2.png", {.width = 32, .height = 32});
  ASSERT_EQ(again.what, th::outcome::made) << again.reason;
  EXPECT_EQ(again.width, 32u);
  EXPECT_EQ(th::from_buffer("<html></html>", d / "x.png", {}).what, th::outcome::skipped);
  const auto small_limit = th::from_buffer(png, d / "y.png", {.max_pixels = 1000});
  EXPECT_EQ(small_limit.what, th::outcome::failed);
  EXPECT_EQ(small_limit.reason.rfind("too large: 300x100 = 30000 pixels", 0), 0u) << small_limit.reason;
  EXPECT_EQ(th::from_file(d / "missing.png", d / "z.png", {}).reason.rfind("cannot read", 0), 0u);
}
