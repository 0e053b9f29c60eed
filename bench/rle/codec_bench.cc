// RLE kernels on one core: encode and decode of a 7200x5600 1-bit image (the
// seed's size), and the BMP load and save around them. The image is the file
// named by SCALEKIT_RLE_IMAGE (scripts/bench makes a page-like one), or
// random runs when it is unset.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "scalekit/jobs/rle/rle.h"

namespace rle = scalekit::jobs::rle;

namespace {

const rle::bitmap& image() {
  static const rle::bitmap b = [] {
    if (const char* path = std::getenv("SCALEKIT_RLE_IMAGE")) {
      auto r = rle::load(path);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.error().message().c_str());
        std::exit(1);
      }
      return std::move(r).value();
    }
    rle::bitmap r(7200, 5600);
    std::mt19937 rng(7200);
    std::geometric_distribution<std::uint32_t> run(1.0 / 20);  // runs of 20 pixels on average
    for (std::uint32_t y = 0; y < r.height(); ++y) {
      bool white = rng() & 1;
      for (std::uint32_t x = 0; x < r.width();) {
        const std::uint32_t end = std::min(r.width(), x + 1 + run(rng));
        for (; x < end; ++x) r.set(x, y, white);
        white = !white;
      }
    }
    return r;
  }();
  return b;
}

void pixels_per_second(benchmark::State& state) {
  state.counters["pixels/s"] = benchmark::Counter(static_cast<double>(image().width()) * image().height(),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

void encode(benchmark::State& state) {
  const auto& b = image();
  for (auto _ : state) benchmark::DoNotOptimize(rle::encode(b));
  state.counters["bytes out"] = static_cast<double>(rle::encode(b).size());
  pixels_per_second(state);
}
BENCHMARK(encode)->Unit(benchmark::kMillisecond);

void decode(benchmark::State& state) {
  const std::string data = rle::encode(image());
  for (auto _ : state) benchmark::DoNotOptimize(rle::decode(data));
  pixels_per_second(state);
}
BENCHMARK(decode)->Unit(benchmark::kMillisecond);

std::string temp_bmp() {
  return (std::filesystem::temp_directory_path() / ("scalekit-rle-bench-" + std::to_string(::getpid()) + ".bmp"))
      .string();
}

void save_bmp(benchmark::State& state) {
  const std::string path = temp_bmp();
  for (auto _ : state) benchmark::DoNotOptimize(rle::save_bmp(image(), path));
  std::filesystem::remove(path);
  pixels_per_second(state);
}
BENCHMARK(save_bmp)->Unit(benchmark::kMillisecond);

void load_bmp(benchmark::State& state) {
  const std::string path = temp_bmp();
  (void)rle::save_bmp(image(), path);
  for (auto _ : state) benchmark::DoNotOptimize(rle::load(path));
  std::filesystem::remove(path);
  pixels_per_second(state);
}
BENCHMARK(load_bmp)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
