#include "scalekit/jobs/mandelbrot/mandelbrot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sha256.h"

using namespace scalekit;
using namespace scalekit::jobs::mandelbrot;
using scalekit::testing::sha256_hex;
namespace fs = std::filesystem;

namespace {

struct register_once {
  register_once() { register_tasks(); }
};
const register_once registered;

}  // namespace

// The raw-RGB checksums the seed's Python draws (also what Celery's workers
// produce, per docs/spec/celery-redis-protocol.md, "Checking compatibility").
TEST(Mandelbrot, MatchesTheSeedPixelForPixel64x48) {
  auto ex = core::make_inline_executor();
  auto img = render({64, 48, 1000}, *ex);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(sha256_hex(img->rgb), "9d5515d4cca99a230d76ba7f6b3877573e1d4a7bcd9ad0aadd7fead1f2486b43");
}

TEST(Mandelbrot, MatchesTheSeedPixelForPixel640x480BothKernels) {
  auto ex = core::make_thread_executor(2);
  for (auto k : {kernel_kind::simd, kernel_kind::scalar}) {
    render_options o;
    o.kernel = k;
    auto img = render({640, 480, 1000}, *ex, o);
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(sha256_hex(img->rgb), "18dc0eb21ee0c7a0bd53e2670b7f3f613fe02964d7d53fbcc4dbfbc0ce38cd03");
  }
}

// Odd widths exercise the vector kernel's padding lanes; tiny and deep
// iteration counts its early exit.
TEST(Mandelbrot, SimdAndScalarKernelsAgreeOnEveryRow) {
  for (params p : {params{1, 1, 10}, params{7, 5, 50}, params{129, 33, 300}, params{333, 17, 5000},
                   params{129, 33, 300, false}, params{333, 17, 5000, false}}) {
    std::vector<std::uint32_t> a(p.width), b(p.width);
    for (std::uint32_t y = 0; y < p.height; ++y) {
      row_iterations_scalar(p, y, a.data());
      for (const auto& target : simd_targets()) {
        row_iterations_simd_on(target, p, y, b.data());
        ASSERT_EQ(a, b) << target << " " << p.width << "x" << p.height << " row " << y;
      }
    }
  }
  EXPECT_GE(simd_targets().size(), 2u);  // at least one vector target and the baseline
  EXPECT_FALSE(simd_target_name().empty());
}

// The cardioid/bulb shortcut changes the work, never the pixels: compare with
// every pixel iterated to the end, at several sizes and iteration counts.
TEST(Mandelbrot, ShortcutDrawsTheSamePixelsAsFullIteration) {
  auto ex = core::make_thread_executor(2);
  for (params p : {params{640, 480, 1000}, params{2000, 1500, 1000}, params{1001, 999, 5000}, params{300, 200, 50000},
                   params{4096, 3, 2000}, params{3, 4096, 2000}}) {
    params full = p;
    full.shortcut = false;
    auto fast = render(p, *ex);
    auto slow = render(full, *ex);
    ASSERT_TRUE(fast.ok() && slow.ok());
    EXPECT_EQ(fast->rgb, slow->rgb) << p.width << "x" << p.height << " n=" << p.max_iterations;
  }
}

TEST(Mandelbrot, EveryExecutorDrawsTheSameBytes) {
  auto serial = core::make_inline_executor();
  auto reference = render({201, 97, 700}, *serial);
  ASSERT_TRUE(reference.ok());
  for (auto kind : {core::executor_kind::threads, core::executor_kind::openmp}) {
    auto ex = core::make_executor(kind, {.jobs = 2});
    render_options o;
    o.rows_per_task = 3;
    auto img = render({201, 97, 700}, *ex, o);
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(img->rgb, reference->rgb) << core::to_string(kind);
  }
}

// Any region of the plane: both kernels agree on it, the shortcut changes no
// pixel, and a band travels with its region to another executor intact.
TEST(Mandelbrot, AnyRegionOnBothKernelsAndEveryExecutor) {
  params p{257, 129, 2000};
  p.x0 = -0.7436447860;  // a deep zoom on the seahorse valley
  p.x1 = -0.7436447860 + 1e-6;
  p.y0 = 0.1318252536;
  p.y1 = 0.1318252536 + 5e-7;
  std::vector<std::uint32_t> a(p.width), b(p.width);
  for (std::uint32_t y = 0; y < p.height; y += 16) {
    row_iterations_scalar(p, y, a.data());
    row_iterations_simd(p, y, b.data());
    ASSERT_EQ(a, b) << "row " << y;
  }
  auto serial = core::make_inline_executor();
  auto reference = render(p, *serial);
  ASSERT_TRUE(reference.ok());
  params everything = p;
  everything.shortcut = false;
  auto full = render(everything, *serial);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->rgb, reference->rgb);
  auto threads = core::make_executor(core::executor_kind::threads, {.jobs = 2});
  auto img = render(p, *threads);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->rgb, reference->rgb);
  params seed{64, 48, 1000};
  EXPECT_NE(reference->rgb, render(seed, *serial)->rgb);
  EXPECT_TRUE(seed.default_region());
  EXPECT_FALSE(p.default_region());
}

TEST(Mandelbrot, ValidateRejectsBadRegions) {
  params p{10, 10, 10};
  p.x1 = p.x0;
  EXPECT_EQ(validate(p).code(), status_code::invalid_argument);
  p = params{10, 10, 10};
  p.y0 = std::nan("");
  EXPECT_EQ(validate(p).code(), status_code::invalid_argument);
  p = params{10, 10, 10};
  p.x0 = -1e308;
  p.x1 = 1e308;  // the width of the region overflows
  EXPECT_EQ(validate(p).code(), status_code::invalid_argument);
}

TEST(Mandelbrot, ValidateRejectsBadSizes) {
  EXPECT_EQ(validate({0, 10, 10}).code(), status_code::invalid_argument);
  EXPECT_EQ(validate({10, 0, 10}).code(), status_code::invalid_argument);
  EXPECT_EQ(validate({10, 10, 0}).code(), status_code::invalid_argument);
  EXPECT_EQ(validate({1000000, 1000000, 10}).code(), status_code::too_large);
  EXPECT_TRUE(validate({640, 480, 1000}).ok());
}

TEST(Mandelbrot, RowsTaskRejectsBadPayloads) {
  auto ex = core::make_inline_executor();
  auto r = ex->map(rows_task, {"short"});
  ASSERT_FALSE(r[0].ok());
  EXPECT_NE(r[0].error().message().find("truncated"), std::string::npos) << r[0].error().message();
}

TEST(Mandelbrot, ProgressReachesTheTotal) {
  auto ex = core::make_inline_executor();
  std::uint32_t last = 0, total = 0;
  render_options o;
  o.progress = [&](std::uint32_t d, std::uint32_t t) { last = d, total = t; };
  ASSERT_TRUE(render({50, 40, 100}, *ex, o).ok());
  EXPECT_EQ(last, 40u);
  EXPECT_EQ(total, 40u);
}

TEST(MandelbrotImage, WritesPngAtomicallyAndLeavesNothingOnError) {
  const fs::path dir = fs::temp_directory_path() / ("scalekit-mb-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto ex = core::make_inline_executor();
  auto img = render({32, 16, 50}, *ex);
  ASSERT_TRUE(img.ok());
  ASSERT_TRUE(write_image(*img, (dir / "a.png").string()).ok());
  std::ifstream f(dir / "a.png", std::ios::binary);
  char sig[8];
  f.read(sig, 8);
  EXPECT_EQ(std::string(sig + 1, 3), "PNG");
  // A path whose parent is a file cannot be written: an error, and no stray temporary.
  auto bad = write_image(*img, (dir / "a.png" / "b.png").string());
  EXPECT_FALSE(bad.ok());
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
  fs::remove_all(dir);
}
