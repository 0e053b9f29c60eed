// Mandelbrot kernel throughput on one core: Mandelbrot iterations per second,
// scalar versus the runtime-dispatched SIMD kernel, on the seed's 640x480 image.
//
//   scalar/<n>            plain C++ kernel, one pixel at a time
//   simd/<n>              Highway kernel (reports the dispatched target)
//   simd_shortcut/<n>     the same, skipping points surely inside the cardioid/bulb
//                         (the default of `scalekit mandelbrot`)
//
// items_per_second is iterations (z = z*z + c steps) per second; the kernels
// run with the shortcut off so that every pixel is iterated. For
// simd_shortcut, items are the iterations the full computation would need,
// so its rate is an "effective" one.

#include <benchmark/benchmark.h>

#include <numeric>
#include <vector>

#include "scalekit/jobs/mandelbrot/mandelbrot.h"

namespace mb = scalekit::jobs::mandelbrot;

namespace {

std::uint64_t total_iterations(const mb::params& p) {
  mb::params full = p;
  full.shortcut = false;
  std::vector<std::uint32_t> row(p.width);
  std::uint64_t total = 0;
  for (std::uint32_t y = 0; y < p.height; ++y) {
    mb::row_iterations_scalar(full, y, row.data());
    total = std::accumulate(row.begin(), row.end(), total);
  }
  return total;
}

template <void (*Kernel)(const mb::params&, std::uint32_t, std::uint32_t*), bool Shortcut = false>
void run_kernel(benchmark::State& state) {
  const mb::params p{640, 480, static_cast<std::uint32_t>(state.range(0)), Shortcut};
  const std::uint64_t iters = total_iterations(p);
  std::vector<std::uint32_t> row(p.width);
  for (auto _ : state) {
    for (std::uint32_t y = 0; y < p.height; ++y) {
      Kernel(p, y, row.data());
      benchmark::DoNotOptimize(row.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(iters * state.iterations()));
  state.counters["iters_per_pixel"] = static_cast<double>(iters) / (p.width * p.height);
}

void scalar(benchmark::State& s) { run_kernel<mb::row_iterations_scalar>(s); }
void simd(benchmark::State& s) {
  s.SetLabel(mb::simd_target_name());
  run_kernel<mb::row_iterations_simd>(s);
}

void simd_shortcut(benchmark::State& s) {
  s.SetLabel(mb::simd_target_name());
  run_kernel<mb::row_iterations_simd, true>(s);
}

}  // namespace

BENCHMARK(simd_shortcut)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(scalar)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(simd)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
