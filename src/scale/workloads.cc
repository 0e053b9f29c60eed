// The sweepable workloads (workloads.h). Each run's output goes to the sweep's
// scratch directory: mandelbrot as raw RGB (no PNG compression, which is
// serial work of its own), numbers sort as its usual text file.

#include "workloads.h"

#include <fmt/format.h>

#include <algorithm>

#include "scalekit/jobs/burn/burn.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/numbers/numbers.h"
#include "scalekit/jobs/primes/primes.h"

namespace scalekit::scale {

namespace {

using core::executor_kind;
namespace mb = jobs::mandelbrot;

constexpr std::uint64_t max_width = 16384;

result<core::report> run_mandelbrot(std::uint64_t size, const std::string& dir, core::executor& ex,
                                    core::observer& obs) {
  mb::options o;
  o.image.width = static_cast<std::uint32_t>(size);
  o.image.height = static_cast<std::uint32_t>(size * 3 / 4);
  o.image.max_iterations = 1000;
  o.image.shortcut = false;  // every pixel iterated to the end, as the seed does: more work per pixel
  o.output = dir + "/mandelbrot.rgb";
  return mb::run(o, ex, obs);
}

result<core::report> run_primes(std::uint64_t size, const std::string&, core::executor& ex, core::observer& obs) {
  jobs::primes::options o;
  o.random_count = size;
  o.random_min = 1'000'000'000'000;  // 10^12..10^13: a prime costs ~1.5 million trial divisions
  o.random_max = 10'000'000'000'000;
  o.random_seed = 1;
  o.alg = jobs::primes::algorithm::trial;
  return jobs::primes::check(o, ex, obs);
}

result<core::report> run_burn(std::uint64_t size, const std::string&, core::executor& ex, core::observer& obs) {
  if (size < 1 || size > jobs::burn::max_iterations)
    return status::invalid_argument(
        fmt::format("burn: {} iterations is outside 1..{}", size, jobs::burn::max_iterations));
  return jobs::burn::run({size}, ex, obs);
}

status prepare_numbers(std::uint64_t size, const std::string& dir) {
  jobs::numbers::gen_options g;
  g.dir = dir + "/numbers";
  g.files = size;
  g.per_file = 100;
  g.max = 10000;
  g.seed = 1;
  auto ex = core::make_executor(executor_kind::serial);
  core::observer quiet;
  auto r = jobs::numbers::generate(g, *ex, quiet);
  return r.ok() ? status{} : r.error();
}

result<core::report> run_numbers(std::uint64_t size, const std::string& dir, core::executor& ex, core::observer& obs) {
  jobs::numbers::sort_options o;
  o.dir = dir + "/numbers";
  o.files = size;
  o.output = dir + "/sorted_nums.txt";
  return jobs::numbers::sort(o, ex, obs);
}

const std::vector<workload>& table() {
  static const std::vector<workload> all = [] {
    const std::vector<executor_kind> local{executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp};
    std::vector<workload> w(4);
    w[0] = {.name = "mandelbrot",
            .size_name = "width",
            .about = "the seed's image, width x 3/4 width, n=1000, no shortcut, SIMD kernel, raw RGB out",
            .default_sizes = {3072},
            .min_size = 4,
            .max_size = max_width,
            .executors = local,
            .prepare = nullptr,
            .run = run_mandelbrot};
    w[1] = {.name = "primes",
            .size_name = "numbers",
            .about = "primes check --algorithm trial of random numbers in 10^12..10^13 (seed 1)",
            .default_sizes = {50000},
            .max_size = 100'000'000,
            .executors = local,
            .prepare = nullptr,
            .run = run_primes};
    w[2] = {.name = "burn",
            .size_name = "iterations per worker",
            .about = "the seed's MuchCPU busy loop, one loop per worker (weak scaling)",
            .default_sizes = {1'500'000'000},
            .max_size = jobs::burn::max_iterations,
            .executors = local,
            .weak = true,
            .prepare = nullptr,
            .run = run_burn};
    w[3] = {.name = "numbers",
            .size_name = "files",
            .about = "numbers sort --method counter of files of 100 numbers (made before the sweep)",
            .default_sizes = {20000},
            .max_size = 10'000'000,
            .executors = local,
            .prepare = prepare_numbers,
            .run = run_numbers};
    return w;
  }();
  return all;
}

}  // namespace

std::span<const workload> workloads() { return table(); }

const workload* find_workload(std::string_view name) {
  const auto& all = table();
  const auto it = std::find_if(all.begin(), all.end(), [&](const workload& w) { return w.name == name; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace scalekit::scale
