// The runs of `scale tables` (table_runs.h).

#include "table_runs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/numbers/numbers.h"
#include "scalekit/jobs/primes/primes.h"

namespace scalekit::scale {

namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;
using core::executor_kind;

constexpr std::uint64_t rle_dir_images = 8;
std::uint32_t rle_height(std::uint64_t width) { return static_cast<std::uint32_t>(width * 7 / 9); }

std::string kind_name(executor_kind k) { return std::string(core::to_string(k)); }

// The chapter's five dummyimage.com URLs (its '320x240/fff/00' mended), on `base`.
std::vector<std::string> chapter_urls(const std::string& base, std::uint64_t count) {
  std::vector<std::string> urls;
  for (const auto path : {"/256x256/000/fff.jpg", "/320x240/fff/000.jpg", "/640x480/ccc/aaa.jpg",
                          "/128x128/ddd/eee.jpg", "/720x720/111/222.jpg"})
    if (urls.size() < count) urls.push_back(base + path);
  return urls;
}

}  // namespace

// The input a run needs, named so that runs of the same input share it.
std::string input_key(const table_run& r, std::uint64_t size) {
  switch (r.job) {
    case table_job::sort_memory:
    case table_job::sort_counter: return fmt::format("numbers-{}", size);
    case table_job::rle_image: return fmt::format("rings-{}", size);
    case table_job::rle_dir: return fmt::format("rings-dir-{}", size);
    case table_job::thumbnail_urls: return fmt::format("thumbnail-urls-{}-{}", size, r.workers);
    case table_job::thumbnail_limit: return fmt::format("thumbnail-limit-{}-{}", size, r.param);
    default: return "none";
  }
}

status prepare_input(const table_run& r, std::uint64_t size, const std::string& dir) {
  switch (r.job) {
    case table_job::sort_memory:
    case table_job::sort_counter: return find_workload("numbers")->prepare(size, dir);  // dir/numbers/
    case table_job::rle_image:
      return write_rings_bmp(static_cast<std::uint32_t>(size), rle_height(size), dir + "/rings.bmp");
    case table_job::rle_dir: {
      std::error_code ec;
      fs::create_directories(dir + "/images", ec);
      if (ec) return status::io_error(fmt::format("cannot make '{}/images': {}", dir, ec.message()));
      const std::string first = dir + "/images/image_0.bmp";
      if (auto st = write_rings_bmp(static_cast<std::uint32_t>(size), rle_height(size), first); !st.ok()) return st;
      for (std::uint64_t i = 1; i < rle_dir_images; ++i)
        if (!fs::copy_file(first, fmt::format("{}/images/image_{}.bmp", dir, i), ec))
          return status::io_error(fmt::format("cannot copy '{}': {}", first, ec.message()));
      return {};
    }
    default: return {};
  }
}

status table_services::need_images() {
  if (!image_base.empty()) return {};
  if (auto st = images.start({"/proc/self/exe", "dummyimage", "serve", "--listen", "127.0.0.1:0"},
                             dir + "/dummyimage.log", "listening on 127.0.0.1:");
      !st.ok())
    return st;
  image_base = fmt::format("http://127.0.0.1:{}", logged_port(images.log()));
  return {};
}

status table_services::need_fleet() {
  if (!broker.empty()) return {};
  const int port = free_loopback_port();
  if (auto st = redis.start({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", dir},
                            dir + "/redis.log", "Ready to accept connections");
      !st.ok())
    return st;
  const std::string url = fmt::format("redis://127.0.0.1:{}/0", port);
  if (auto st = worker.start({"/proc/self/exe", "worker", "--broker", url, "--concurrency", "4", "--loglevel", "info"},
                             dir + "/worker.log", "consuming");
      !st.ok())
    return st;
  broker = url;
  return {};
}

workload workload_of(const table_run& r, const table_services& sv) {
  const std::string& image_base = sv.image_base;
  workload w;
  w.name = "table";
  const std::uint64_t param = r.param;
  switch (r.job) {
    case table_job::sort_counter: w.run = find_workload("numbers")->run; break;
    case table_job::sort_memory:
      w.run = [](std::uint64_t size, const std::string& dir, core::executor& ex, core::observer& obs) {
        jobs::numbers::sort_options o;
        o.dir = dir + "/numbers";
        o.files = size;
        o.output = dir + "/sorted_memory.txt";
        o.method = jobs::numbers::sort_method::memory;
        return jobs::numbers::sort(o, ex, obs);
      };
      break;
    case table_job::primes:
      w.run = [](std::uint64_t size, const std::string&, core::executor& ex, core::observer& obs) {
        jobs::primes::options o;
        const auto seed = jobs::primes::seed_list();  // the ten numbers, 100 times over
        for (std::uint64_t i = 0; i < size; ++i) o.numbers.push_back(std::to_string(seed[i % seed.size()]));
        o.alg = jobs::primes::algorithm::trial;
        return jobs::primes::check(o, ex, obs);
      };
      break;
    case table_job::mandelbrot:
      if (r.executor == executor_kind::distributed) {  // the worker is in another process: a command
        w.command = [param, broker = sv.broker](std::uint64_t size, const std::string& dir, const sweep_point&) {
          return std::vector<std::string>{"mandelbrot",
                                          "--executor",
                                          "distributed",
                                          "--broker",
                                          broker,
                                          "-W",
                                          std::to_string(size),
                                          "-H",
                                          std::to_string(size * 3 / 4),
                                          "-n",
                                          std::to_string(param),
                                          "-o",
                                          dir + "/celery.rgb"};
        };
        break;
      }
      w.run = [param](std::uint64_t size, const std::string& dir, core::executor& ex, core::observer& obs) {
        jobs::mandelbrot::options o;
        o.image.width = static_cast<std::uint32_t>(size);
        o.image.height = static_cast<std::uint32_t>(size * 3 / 4);
        o.image.max_iterations = static_cast<std::uint32_t>(param);
        o.image.shortcut = false;  // every pixel iterated to the end, as the seed does
        o.output = dir + "/mandelbrot.rgb";
        return jobs::mandelbrot::run(o, ex, obs);
      };
      break;
    case table_job::burn: w.run = find_workload("burn")->run; break;
    case table_job::rle_image:
      w.command = [](std::uint64_t, const std::string& dir, const sweep_point& p) {
        return std::vector<std::string>{"rle",
                                        "compress",
                                        dir + "/rings.bmp",
                                        dir + "/out.rle",
                                        "--row-executor",
                                        kind_name(p.executor),
                                        "-j",
                                        std::to_string(p.workers)};
      };
      break;
    case table_job::rle_dir:
      w.command = [param](std::uint64_t, const std::string& dir, const sweep_point& p) {
        return std::vector<std::string>{"rle",
                                        "compress-dir",
                                        dir + "/images",
                                        dir + "/out",
                                        "--image-executor",
                                        param == 1 ? "processes" : "threads",
                                        "-j",
                                        "4",
                                        "--row-executor",
                                        kind_name(p.executor),
                                        "--row-jobs",
                                        std::to_string(p.workers)};
      };
      break;
    case table_job::thumbnail_urls:
      w.command = [image_base](std::uint64_t size, const std::string& dir, const sweep_point& p) {
        std::vector<std::string> args{"thumbnail"};
        for (auto& u : chapter_urls(image_base, size)) args.push_back(std::move(u));
        args.insert(args.end(), {"-o", dir + "/thumbs", "--executor", "threads", "-j", std::to_string(p.workers)});
        return args;
      };
      break;
    case table_job::thumbnail_limit:
      w.command = [image_base, param](std::uint64_t size, const std::string& dir, const sweep_point& p) {
        return std::vector<std::string>{"thumbnail",
                                        "--random-urls",
                                        image_base,
                                        "--limit",
                                        std::to_string(size),
                                        "--limiter",
                                        param == 1 ? "semaphore" : "lock",
                                        "--producers",
                                        "3",
                                        "--consumers",
                                        std::to_string(p.workers),
                                        "-o",
                                        dir + "/thumbs"};
      };
      break;
  }
  return w;
}

// The seed program of `r`, in `dir`, stopped after the timeout. Its output
// goes to /dev/null.
seed_outcome run_seed(const tables_options& o, const std::string& seed_dir, const table_run& r, std::uint64_t size,
                      const std::string& dir, core::observer& obs) {
  seed_outcome out;
  if (r.seed.empty()) return {.text = "-"};
  if (r.seed_only_at != 0 && size != r.seed_only_at) return {.text = fmt::format("only at {}", r.seed_only_at)};
  std::vector<std::string> args{o.python, seed_dir + "/" + std::string(r.seed[0])};
  for (std::size_t i = 1; i < r.seed.size(); ++i) {
    std::string a(r.seed[i]);
    if (a == "{size}") a = std::to_string(size);
    if (a == "{height}") a = std::to_string(size * 3 / 4);
    if (a == "{param}") a = std::to_string(r.param);
    if (a == "{in}") a = dir + "/rings.bmp";
    args.push_back(std::move(a));
  }
  if (::access(args[1].c_str(), R_OK) != 0) return {.text = "no seed"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto t0 = clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return {.text = "failed"};
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setpgid(0, 0);  // its own group: a pool's workers are stopped with it
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int st = 0;
  rusage ru{};
  bool timed_out = false;
  for (;;) {
    const pid_t got = ::wait4(pid, &st, WNOHANG, &ru);
    if (got == pid) break;
    if (got < 0 && errno != EINTR) return {.text = "failed"};
    const double took = std::chrono::duration<double>(clock::now() - t0).count();
    if (!timed_out && (took > o.seed_timeout_s || obs.stop_requested())) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (timed_out) {
    if (obs.stop_requested()) return {.text = "stopped"};
    return {.text = fmt::format("> {:.0f}", o.seed_timeout_s)};
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    obs.message(fmt::format("seed {}: {} failed (status {})", args[1], args.size() > 2 ? args[2] : "", st));
    return {.text = "failed"};
  }
  out.wall_s = std::chrono::duration<double>(clock::now() - t0).count();
  out.user_s = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  return out;
}

}  // namespace scalekit::scale
