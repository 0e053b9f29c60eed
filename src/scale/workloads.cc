// The sweepable workloads (workloads.h). Each run's output goes to the sweep's
// scratch directory: mandelbrot as raw RGB (no PNG compression, which is
// serial work of its own), numbers sort as its usual text file.

#include "workloads.h"

#include <fmt/format.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "scalekit/core/atomic_file.h"
#include "scalekit/jobs/burn/burn.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/numbers/numbers.h"
#include "scalekit/jobs/primes/primes.h"
#include "scalekit/jobs/search/search.h"
#include "scalekit/scale/sweep.h"
#include "synthetic.h"

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

// A 1-bit image of concentric rings, (x² + y²) >> 14 odd is white, written
// as an RLE file (MISSION.md's format, encoded here because the rle job is run
// as a command): runs of every length, so that compressing it is real work.
status write_rings_rle(const std::string& path, std::uint32_t width, std::uint32_t height) {
  auto f = core::atomic_file::create(path);
  if (!f.ok()) return f.error();
  std::string out;
  out.reserve(std::size_t{width} * height / 16 + 4);
  for (const auto v : {width, height}) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>(v >> 8);
  }
  std::vector<std::uint8_t> bits(width);
  for (std::uint64_t y = 0; y < height; ++y) {
    for (std::uint64_t x = 0; x < width; ++x) bits[x] = static_cast<std::uint8_t>(((x * x + y * y) >> 14) & 1);
    for (std::uint32_t chunk = 0; chunk < width; chunk += 127) {
      const std::uint32_t end = std::min(width, chunk + 127);
      for (std::uint32_t i = chunk; i < end;) {
        std::uint32_t j = i;
        while (j < end && bits[j] == bits[i]) ++j;
        out += static_cast<char>((bits[i] << 7) | (j - i));
        i = j;
      }
    }
  }
  if (auto st = f->write(out.data(), out.size()); !st.ok()) return st;
  return f->commit();
}

status prepare_rle(std::uint64_t size, const std::string& dir) {
  return write_rings_bmp(static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(size), dir + "/rings.bmp");
}

// The injected parameters: σ and κ a fit of a synthetic sweep must find.
constexpr double synthetic_sigma = 0.05, synthetic_kappa = 0.01;

result<core::report> run_synthetic_work(std::uint64_t size, const std::string&, core::executor& ex,
                                        core::observer& obs) {
  return run_synthetic({std::chrono::milliseconds(size), synthetic_sigma, synthetic_kappa}, ex, obs);
}

// The distributed Mandelbrot's client: the seed's row tasks (Celery's
// mandelbrot_calc_row) through the fleet's Redis, the image as raw RGB.
std::vector<std::string> mandelbrot_distributed(std::uint64_t size, const std::string& dir, const sweep_point& p,
                                                const std::string& broker) {
  return {"mandelbrot",
          "--executor",
          "distributed",
          "--broker",
          broker,
          "-j",
          std::to_string(p.workers),
          "-W",
          std::to_string(size),
          "-H",
          std::to_string(size * 3 / 4),
          "-n",
          "1000",
          "--no-shortcut",
          "-o",
          dir + "/distributed-mandelbrot.rgb"};
}

// The distributed primes check's client: the same random numbers, a batch of
// them per scalekit.run task (scalekit workers only: the seed has no Celery
// task for it), the result lines in its --json report.
std::vector<std::string> primes_distributed(std::uint64_t size, const std::string&, const sweep_point& p,
                                            const std::string& broker) {
  return {"primes",     "check",         "--algorithm", "trial",          "--random", std::to_string(size),
          "--min",      "1000000000000", "--max",       "10000000000000", "--seed",   "1",
          "--executor", "distributed",   "--broker",    broker,           "-j",       std::to_string(p.workers)};
}

status prepare_thumbnail(std::uint64_t size, const std::string& dir) { return write_image_corpus(size, dir); }

// thumbnail is a command of scalekit-heavy (libvips): run as one.
std::vector<std::string> thumbnail_command(std::uint64_t, const std::string& dir, const sweep_point& p) {
  return {"thumbnail",  dir + "/images",
          "-o",         dir + "/thumbs",
          "--executor", std::string(core::to_string(p.executor)),
          "-j",         std::to_string(p.workers)};
}

status prepare_search(std::uint64_t size, const std::string& dir) { return write_text_corpus(size, dir); }

result<core::report> run_search(std::uint64_t, const std::string& dir, core::executor& ex, core::observer& obs) {
  jobs::search::options o;
  o.dir = dir + "/text";
  o.queries = search_queries();
  return jobs::search::run(o, ex, obs);
}

std::vector<std::string> rle_command(std::uint64_t, const std::string& dir, const sweep_point& p) {
  return {"rle",
          "compress",
          dir + "/rings.bmp",
          dir + "/out.rle",
          "--row-executor",
          std::string(core::to_string(p.executor)),
          "-j",
          std::to_string(p.workers)};
}

const std::vector<workload>& table() {
  static const std::vector<workload> all = [] {
    const std::vector<executor_kind> local{executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp};
    std::vector<workload> w(8);
    w[0] = {.name = "mandelbrot",
            .size_name = "width",
            .about = "the seed's image, width x 3/4 width, n=1000, no shortcut, SIMD kernel, raw RGB out",
            .default_sizes = {3072},
            .min_size = 4,
            .max_size = max_width,
            .executors = {executor_kind::serial, executor_kind::threads, executor_kind::processes,
                          executor_kind::openmp, executor_kind::distributed},
            .prepare = nullptr,
            .run = run_mandelbrot,
            .distributed = mandelbrot_distributed,
            .output = "mandelbrot.rgb"};
    w[1] = {.name = "primes",
            .size_name = "numbers",
            .about =
                "primes check --algorithm trial of random numbers in 10^12..10^13 (seed 1); also on the distributed "
                "executor (scalekit.run tasks)",
            .default_sizes = {50000},
            .max_size = 100'000'000,
            .executors = {executor_kind::serial, executor_kind::threads, executor_kind::processes,
                          executor_kind::openmp, executor_kind::distributed},
            .prepare = nullptr,
            .run = run_primes,
            .distributed = primes_distributed};
    w[2] = {.name = "burn",
            .size_name = "iterations per worker",
            .about = "the seed's MuchCPU busy loop, one loop per worker (weak scaling)",
            .default_sizes = {1'500'000'000},
            .max_size = jobs::burn::max_iterations,
            .executors = local,
            .weak = true,
            .prepare = nullptr,
            .run = run_burn,
            .no_distributed =
                "its point is threads against processes on one machine (the seed's MuchCPU and the GIL); one "
                "busy loop per worker sends N tasks, and a fleet would measure nothing of the queue"};
    w[3] = {.name = "numbers",
            .size_name = "files",
            .about = "numbers sort --method counter of files of 100 numbers (made before the sweep)",
            .default_sizes = {20000},
            .max_size = 10'000'000,
            .executors = local,
            .prepare = prepare_numbers,
            .run = run_numbers,
            .no_distributed =
                "its tasks read the number files by path, which workers on other hosts do not have (it would "
                "need a shared file system, and then measures the disk)"};
    w[4] = {.name = "rle",
            .size_name = "side",
            .about =
                "rle compress of a square 1-bit BMP of rings, rows on the executor (run as a command: its CPU "
                "includes its start)",
            .default_sizes = {8192},
            .min_size = 1,
            .max_size = 65535,
            .executors = {executor_kind::serial, executor_kind::threads, executor_kind::processes},
            .prepare = prepare_rle,
            .run = nullptr,
            .command = rle_command,
            .no_distributed =
                "rle compress's row executor is local (serial, threads, processes): a row is microseconds of "
                "encoding, far less than a task's round trip through Redis"};
    w[5] = {.name = "synthetic",
            .size_name = "milliseconds of work",
            .about =
                "a job with known scaling, to check the fit: a global lock for σ=0.05 of the work, an "
                "all-to-all exchange costing κ=0.01 of it per message (waits, not CPU: docs/scale.md)",
            .default_sizes = {300},
            .min_size = 1,
            .max_size = 600'000,
            .executors = {executor_kind::serial, executor_kind::threads},
            .default_workers = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16},
            .waits = true,
            .prepare = nullptr,
            .run = run_synthetic_work,
            .no_distributed =
                "its contention is a lock and an exchange between the threads of one process, which tasks on "
                "other hosts would not share"};
    w[6] = {.name = "thumbnail",
            .size_name = "images",
            .about =
                "thumbnail DIR --size 64x64 of PNG pictures of 800x600 to 2400x1600 pixels (made before the sweep; "
                "run as a command, of scalekit-heavy: its CPU includes its start)",
            .default_sizes = {200},
            .min_size = 1,
            .max_size = 100'000,
            .executors = {executor_kind::threads, executor_kind::processes},
            .prepare = prepare_thumbnail,
            .run = nullptr,
            .command = thumbnail_command,
            .no_distributed =
                "its tasks read image files by path and need libvips (scalekit-heavy), which the scalekit "
                "workers do not load"};
    w[7] = {.name = "search",
            .size_name = "files",
            .about =
                "search of a generated text tree (100 lines a file, made before the sweep): loading it, then "
                "answering 40 queries",
            .default_sizes = {5000},
            .min_size = 1,
            .max_size = 10'000'000,
            .executors = {executor_kind::serial, executor_kind::threads, executor_kind::processes},
            .prepare = prepare_search,
            .run = run_search,
            .no_distributed =
                "its workers keep the loaded text tree in memory between queries; stateless Celery tasks would "
                "ship the tree with every query"};
    return w;
  }();
  return all;
}

}  // namespace

status run_scalekit(std::vector<std::string> args) {
  std::vector<char*> argv;
  args.insert(args.begin(), {"scalekit", "-q"});
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int e = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ); e != 0)
    return status::io_error(fmt::format("cannot run scalekit {}: {}", args[2], std::strerror(e)));
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return status::task_failed(fmt::format("scalekit {} failed (status {})", args[2], st));
  return {};
}

status write_rings_bmp(std::uint32_t width, std::uint32_t height, const std::string& path) {
  const std::string rle = path + ".rle";
  if (auto st = write_rings_rle(rle, width, height); !st.ok()) return st;
  auto st = run_scalekit({"rle", "decompress", rle, path});
  std::remove(rle.c_str());
  return st;
}

std::span<const workload> workloads() { return table(); }

void register_sweep_tasks() { register_synthetic_tasks(); }

const workload* find_workload(std::string_view name) {
  const auto& all = table();
  const auto it = std::find_if(all.begin(), all.end(), [&](const workload& w) { return w.name == name; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace scalekit::scale
