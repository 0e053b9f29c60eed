// scalekit thumbnail: flags -> one of the thumbnail jobs (files and
// directories, URLs, or the random-URL producer/consumer) -> its report.
// Built into scalekit-thumbnail with SCALEKIT_THUMBNAIL_FILES_ONLY (files and
// directories; URLs handed over to scalekit-heavy, which links libcurl) and
// into scalekit-heavy whole.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::cli {

namespace {

namespace th = jobs::thumbnail;

struct thumbnail_flags {
  std::vector<std::string> inputs;  // directories, files or URLs
  std::string out_dir;
  std::string size = "64x64";
  std::uint64_t max_pixels = th::options{}.max_pixels;
  double timeout_s = 60;  // per download
  std::string limiter = "semaphore";
  th::random_options random;  // --random-urls and its flags
  executor_flags exec;
  const CLI::Option* task_timeout = nullptr;  // given on the command line: the worker's guard is wanted
};

bool is_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

result<core::report> run(thumbnail_flags& f, core::observer& obs) {
  if (f.out_dir.empty()) throw usage_error("-o OUTDIR is required");
  // The pool's workers run scalekit-thumbnail, which starts without libvips'
  // hundred libraries (about 15 ms less CPU per worker); "": this program.
  f.exec.worker_executable = executable_path(binary::thumbnail);
  const auto size = th::parse_size(f.size);
  if (!size.ok()) throw usage_error("--size: " + size.error().message());
  const th::options image{size->first, size->second, f.max_pixels};
  [[maybe_unused]] const std::chrono::milliseconds timeout(static_cast<long>(f.timeout_s * 1000));  // URLs
#ifndef SCALEKIT_THUMBNAIL_FILES_ONLY
  if (!f.random.base.empty()) {
    if (!f.inputs.empty()) throw usage_error("--random-urls takes no other inputs");
    f.random.out_dir = f.out_dir;
    f.random.image = image;
    f.random.timeout = timeout;
    f.random.limiter = *core::parse_limiter_kind(f.limiter);  // CLI11 checked the name
    auto ex = f.exec.make();
    auto r = th::run_random_urls(f.random, *ex, obs);
    // Stopped, the seed's job still has its report: printed, then the program
    // ends as the signal does.
    if (r.ok() && obs.stop_requested()) globals().stopped_by_signal = true;
    return r;
  }
#endif
  if (f.inputs.empty()) throw usage_error("give a DIR, files, URLs, or --random-urls BASE");
  const auto urls = std::count_if(f.inputs.begin(), f.inputs.end(), is_url);
  if (urls > 0 && urls != static_cast<long>(f.inputs.size()))
    throw usage_error("give either URLs or files and directories, not both");
  if (f.random.limit > 0 || !f.random.rate.empty()) throw usage_error("--limit and --rate belong to --random-urls");
  // One image file needs no process pool: two worker processes to start
  // (exec, libraries, a socket each) for one thumbnail, so the image is made
  // here, as with threads. --task-timeout given keeps the worker that
  // enforces it; a directory keeps the pool (it may hold many).
  std::error_code ec;
  const bool one_file = urls == 0 && f.inputs.size() == 1 && std::filesystem::is_regular_file(f.inputs[0], ec);
  const bool here = one_file && f.exec.kind() == core::executor_kind::processes && f.task_timeout->count() == 0;
  auto ex = here ? core::make_executor(core::executor_kind::serial) : f.exec.make();
#ifndef SCALEKIT_THUMBNAIL_FILES_ONLY
  if (urls > 0)
    return th::run_urls({.urls = f.inputs, .out_dir = f.out_dir, .image = image, .timeout = timeout}, *ex, obs);
#endif
  return th::run_files({.inputs = f.inputs, .out_dir = f.out_dir, .image = image}, *ex, obs);
}

void add_command(CLI::App& command) {
  auto f = std::make_shared<thumbnail_flags>();
  auto* cmd = &command;
  cmd->add_option("inputs", f->inputs, "directories (walked recursively), image files, or http(s) URLs");
  cmd->add_option("-o,--output", f->out_dir, "output directory (created)");
  cmd->add_option("--size", f->size, "fit the thumbnail in WxH, keeping the aspect ratio (never enlarged)")
      ->capture_default_str();
  f->exec.add_to(*cmd, "threads,processes", "processes");  // isolated decoders, and measured faster
  f->task_timeout =
      cmd->add_option("--task-timeout", f->exec.task_timeout_s,
                      "processes: a decode running longer than this many seconds kills its worker and fails (one "
                      "image file runs in this process, with no worker, unless this is given)")
          ->check(CLI::Range(0.0, 86400.0))
          ->default_val(60);
  cmd->add_option("--max-pixels", f->max_pixels, "refuse images that declare more pixels (read from the header)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--timeout", f->timeout_s, "URLs: seconds per download")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option(
      "--random-urls", f->random.base,
      "the seed's producer/consumer: producers make BASE/<W>x<H>/<bg>/<fg>.jpg URLs, consumers thumbnail them");
  cmd->add_option("--producers", f->random.producers, "--random-urls: producer threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--consumers", f->random.consumers, "--random-urls: consumer threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--queue-size", f->random.queue_size, "--random-urls: URLs the queue holds")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--limit", f->random.limit,
                  "--random-urls: stop after exactly N distinct thumbnails (0: until interrupted)")
      ->capture_default_str();
  cmd->add_option("--limiter", f->limiter,
                  "--random-urls: how the limit is kept: lock or semaphore (the seed's two savers)")
      ->check(CLI::IsMember({"lock", "semaphore"}))
      ->capture_default_str();
  cmd->add_option("--rate", f->random.rate,
                  "--random-urls: at most this many URLs produced per unit, as N/min, N/s or N/h");
  cmd->add_option_function<std::uint64_t>(
      "--seed", [f](std::uint64_t s) { f->random.seed = s; }, "--random-urls: random seed of the producers");
  cmd->add_option("--give-up-after", f->random.max_consecutive_failures,
                  "--random-urls: end with an error after N URLs in a row gave no thumbnail (0: never)")
      ->capture_default_str();
  cmd->footer(
      "A file name.ext becomes OUTDIR/name_thumb.png (subdirectories mirrored); a URL .../<a>/<b>.jpg becomes "
      "OUTDIR/<a>_<b>_thumb.png. Images are recognised by their content. Each item that is not an image, cannot "
      "be fetched or decoded, or is too large is a line on stderr, counted in the summary.");
  cmd->callback([f] {
#ifdef SCALEKIT_THUMBNAIL_FILES_ONLY
    if (!f->random.base.empty() || std::any_of(f->inputs.begin(), f->inputs.end(), is_url)) {
      globals().exit_code = hand_over_to(binary::heavy);  // downloads: libcurl
      return;
    }
#endif
    f->exec.max_attempts = 1;  // a file that kills a decoder will kill it again
    run_job("thumbnail", [f](core::observer& obs) { return run(*f, obs); });
  });
}

const command_registration registered{{"thumbnail", add_command, th::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
