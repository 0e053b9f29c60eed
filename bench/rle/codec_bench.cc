// RLE kernels on one core: encode and decode of a 7200x5600 1-bit image (the
// seed's size), and the BMP load and save around them; encode_rows/<kernel>
// is the encoder's kernel alone, on each kernel this CPU runs. The image is the file
// named by SCALEKIT_RLE_IMAGE (scripts/bench makes a page-like one), or
// random runs when it is unset.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

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

// The kernel alone, on each one this CPU runs: every row into one buffer
// that is written again each time (no allocation, no page faults).
void encode_rows_on(benchmark::State& state, rle::row_kernel k) {
  const auto& b = image();
  std::vector<char> out(std::size_t{b.height()} * rle::row_bytes_max(b.width()));
  std::size_t bytes = 0;
  for (auto _ : state) {
    char* p = out.data();
    for (std::uint32_t y = 0; y < b.height(); ++y) p = rle::encode_row_on(k, b.row(y), b.width(), p);
    bytes = static_cast<std::size_t>(p - out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes out"] = static_cast<double>(bytes);
  pixels_per_second(state);
}

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

int main(int argc, char** argv) {
  for (rle::row_kernel k : rle::usable_row_kernels())
    benchmark::RegisterBenchmark(k == rle::row_kernel::scalar ? "encode_rows/scalar" : "encode_rows/avx3_bytes",
                                 encode_rows_on, k)
        ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
