#include "scalekit/jobs/rle/rle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <stop_token>

#include "run_command.h"
#include "scalekit/core/job.h"
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

// The 255x4 example of docs/spec/rle-format.md, byte for byte.
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

// Every kernel this CPU runs writes the seed's bytes, plain and inverted, at
// widths around words and chunks, with every kind of run: single pixels
// (64 boundaries in a word), long runs cut into chunks, one colour. Nothing
// is written past row_bytes_max.
TEST(Rle, EveryKernelWritesTheSeedsBytes) {
  std::vector<std::uint32_t> widths;
  for (std::uint32_t w = 1; w <= 300; ++w) widths.push_back(w);
  for (std::uint32_t w : {508u, 511u, 512u, 513u, 4095u, 7200u, 8191u, rle::max_side}) widths.push_back(w);
  ASSERT_EQ(rle::usable_row_kernels().back(), rle::row_kernel::scalar);
  for (std::uint32_t w : widths) {
    rle::bitmap b(w, 4), inv(w, 4);
    std::mt19937 rng(w);
    for (std::uint32_t x = 0; x < w; ++x) {
      b.set(x, 0, x % 2 == 1);                          // a run per pixel
      b.set(x, 1, (x / 131) % 2 == 0);                  // runs longer than a chunk
      b.set(x, 2, rng() % 5 == 0 ? x % 2 : x < w / 2);  // short and long
      b.set(x, 3, true);                                // one colour
    }
    for (std::uint32_t y = 0; y < 4; ++y)
      for (std::uint32_t x = 0; x < w; ++x) inv.set(x, y, !b.get(x, y));
    const std::string want = reference_encode(b).substr(4), want_inverted = reference_encode(inv).substr(4);
    for (rle::row_kernel k : rle::usable_row_kernels()) {
      for (bool invert : {false, true}) {
        std::string got;
        for (std::uint32_t y = 0; y < 4; ++y) {
          std::vector<char> out(rle::row_bytes_max(w) + 16, '\x5A');
          const char* end = rle::encode_row_on(k, b.row(y), w, out.data(), invert);
          got.append(out.data(), static_cast<std::size_t>(end - out.data()));
          for (std::size_t i = rle::row_bytes_max(w); i < out.size(); ++i)
            ASSERT_EQ(out[i], '\x5A') << "written past row_bytes_max: width " << w << ", kernel " << int(k);
        }
        EXPECT_EQ(got, invert ? want_inverted : want)
            << "width " << w << ", kernel " << int(k) << ", invert " << invert;
      }
    }
  }
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

// ---- The job's entries, on every local executor ----

namespace {

namespace core = scalekit::core;
using scalekit::status_code;

// The value of a report's field, or -1 when it is missing or not a count.
std::int64_t count_of(const core::report& r, std::string_view key) {
  const auto* v = r.find(key);
  if (v == nullptr) return -1;
  if (const auto* u = std::get_if<std::uint64_t>(v)) return static_cast<std::int64_t>(*u);
  return -1;
}

}  // namespace

class RleJob : public ::testing::TestWithParam<core::executor_kind> {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    if (GetParam() == core::executor_kind::openmp) GTEST_SKIP() << "OpenMP under TSan gives false positives";
#endif
  }
  std::unique_ptr<core::executor> make() { return core::make_executor(GetParam(), {.jobs = 2}); }
};

TEST_P(RleJob, CompressAndDecompressThroughTheEntries) {
  temp_dir d("rle-job");
  const auto b = random_image(700, 211, 3);
  ASSERT_TRUE(rle::save_bmp(b, d / "in.bmp").ok());
  const std::string expected = rle::encode(b);

  auto rows = make();
  core::collecting_observer obs;
  auto r = rle::compress({d / "in.bmp", d / "out.rle"}, *rows, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(slurp(d / "out.rle") == expected);
  EXPECT_EQ(obs.text(), "");  // files, not lines
  EXPECT_TRUE(obs.messages().empty());
  EXPECT_EQ(r->failures, 0u);
  EXPECT_EQ(count_of(*r, "width"), 700);
  EXPECT_EQ(count_of(*r, "height"), 211);
  EXPECT_EQ(count_of(*r, "input_bytes"), static_cast<std::int64_t>(std::filesystem::file_size(d / "in.bmp")));
  EXPECT_EQ(count_of(*r, "output_bytes"), static_cast<std::int64_t>(expected.size()));
  EXPECT_GT(count_of(*r, "tasks"), 0);
  EXPECT_EQ(r->items, 700.0 * 211);
  EXPECT_NE(r->summary_line().find("rows on " + std::string(core::to_string(GetParam()))), std::string::npos)
      << r->summary_line();

  auto back = rle::decompress({d / "out.rle", d / "back.bmp"}, obs);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(rle::load(d / "back.bmp").value() == b);
  EXPECT_EQ(count_of(*back, "width"), 700);
  EXPECT_EQ(count_of(*back, "height"), 211);
  EXPECT_EQ(count_of(*back, "input_bytes"), static_cast<std::int64_t>(expected.size()));
  EXPECT_NE(back->to_json().find("\"job\":\"rle decompress\""), std::string::npos) << back->to_json();
}

// The seed's nested pools: images on this executor, rows on threads inside
// each; a bad image is a message and a failure, the rest go on.
TEST_P(RleJob, CompressDirCountsAndNamesTheBadImages) {
  temp_dir d("rle-job-dir"), out("rle-job-out");
  std::uint64_t pixels = 0;
  for (std::uint32_t k = 0; k < 4; ++k) {
    const auto b = random_image(100 + 37 * k, 9 + k, k);
    pixels += std::uint64_t{b.width()} * b.height();
    ASSERT_TRUE(rle::save_bmp(b, d / (k == 3 ? "UPPER.BMP" : "img" + std::to_string(k) + ".bmp")).ok());
  }
  std::ofstream(d / "broken.bmp") << "not an image at all";
  std::ofstream(d / "notes.txt") << "not a .bmp: not even tried";
  auto images = make();
  core::collecting_observer obs;
  rle::compress_dir_options o{d.path.string(), (out.path / "sub").string(), core::executor_kind::threads, 2};
  auto r = rle::compress_dir(o, *images, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(count_of(*r, "images"), 4);
  EXPECT_EQ(count_of(*r, "failed"), 1);
  EXPECT_EQ(r->failures, 1u);
  EXPECT_EQ(count_of(*r, "pixels"), static_cast<std::int64_t>(pixels));
  EXPECT_EQ(count_of(*r, "row_jobs"), 2);
  const auto messages = obs.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].find(d / "broken.bmp: "), 0u) << messages[0];
  EXPECT_NE(messages[0].find("broken.bmp' is not an image"), std::string::npos) << messages[0];
  EXPECT_EQ(obs.last_progress(), std::make_pair(std::uint64_t{5}, std::uint64_t{5}));
  for (const char* name : {"img0.rle", "img1.rle", "img2.rle", "UPPER.rle"})
    EXPECT_TRUE(std::filesystem::exists(out.path / "sub" / name)) << name;
  EXPECT_FALSE(std::filesystem::exists(out.path / "sub" / "broken.rle"));
  EXPECT_TRUE(slurp(out.path / "sub" / "img1.rle") == rle::encode(random_image(137, 10, 1)));
}

// A stop before the work: nothing is written, no image counts as failed.
TEST_P(RleJob, AStopRequestedCancelsAndWritesNothing) {
  temp_dir d("rle-job-stop");
  ASSERT_TRUE(rle::save_bmp(random_image(300, 50, 4), d / "a.bmp").ok());
  ASSERT_TRUE(rle::save_bmp(random_image(300, 50, 5), d / "b.bmp").ok());
  std::stop_source stop;
  stop.request_stop();
  {
    auto rows = make();
    core::collecting_observer obs(stop.get_token());
    auto r = rle::compress({d / "a.bmp", d / "a.rle"}, *rows, obs);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), status_code::cancelled) << r.error().to_string();
    EXPECT_FALSE(std::filesystem::exists(d / "a.rle"));
  }
  {
    auto images = make();
    core::collecting_observer obs(stop.get_token());
    auto r = rle::compress_dir({d.path.string(), d / "out"}, *images, obs);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), status_code::cancelled) << r.error().to_string();
    EXPECT_TRUE(obs.messages().empty());
    EXPECT_FALSE(std::filesystem::exists(d.path / "out" / "a.rle"));
  }
}

// Bad options are invalid_argument (the command line's 2); bad inputs are
// failures of another kind (its 1).
TEST_P(RleJob, BadOptionsAndBadInputsAreDifferentErrors) {
  temp_dir d("rle-job-bad");
  auto ex = make();
  core::collecting_observer obs;
  auto distributed = rle::compress_dir({d.path.string(), d / "out", core::executor_kind::distributed}, *ex, obs);
  ASSERT_FALSE(distributed.ok());
  EXPECT_EQ(distributed.error().code(), status_code::invalid_argument);
  auto missing = rle::compress_dir({d / "missing", d / "out"}, *ex, obs);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), status_code::io_error);
  EXPECT_NE(missing.error().message().find("cannot read '" + d / "missing'"), std::string::npos);

  std::ofstream(d / "text.bmp") << "not an image at all";
  auto not_image = rle::compress({d / "text.bmp", d / "text.rle"}, *ex, obs);
  ASSERT_FALSE(not_image.ok());
  EXPECT_NE(not_image.error().code(), status_code::invalid_argument);
  EXPECT_NE(not_image.error().message().find("text.bmp' is not an image"), std::string::npos);
  std::ofstream(d / "bad.rle", std::ios::binary) << std::string("\x0A\x00\x01\x00\x8B", 5);
  auto bad = rle::decompress({d / "bad.rle", d / "bad.bmp"}, obs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), status_code::corruption);
  EXPECT_NE(bad.error().message().find("bad.rle': offset 4"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(std::filesystem::exists(d / "bad.bmp"));
  EXPECT_TRUE(obs.messages().empty());  // whole-job errors are statuses, not messages
}

INSTANTIATE_TEST_SUITE_P(Kinds, RleJob,
                         ::testing::Values(scalekit::core::executor_kind::serial,
                                           scalekit::core::executor_kind::threads,
                                           scalekit::core::executor_kind::processes,
                                           scalekit::core::executor_kind::openmp),
                         [](const auto& p) { return std::string(scalekit::core::to_string(p.param)); });

int main(int argc, char** argv) {
  rle::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
