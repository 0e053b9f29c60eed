// scalekit thumbnail: the seed's thumbnailers (chapter 5). Three sources, one
// image path: files from directories, a list of URLs, and the random-URL
// producer/consumer with exact limits and rate control. Every image goes
// through the thumbnail tasks on the chosen executor.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "common.h"
#include "scalekit/core/bounded_queue.h"
#include "scalekit/core/limiter.h"
#include "scalekit/core/rate_limiter.h"
#include "scalekit/core/signals.h"
#include "scalekit/core/thread_pool.h"
#include "scalekit/jobs/find/find.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"
#include "scalekit/net/fetch.h"

namespace scalekit::cli {

namespace {

namespace fs = std::filesystem;
namespace th = jobs::thumbnail;

struct thumbnail_cli {
  std::vector<std::string> inputs;  // directories, files or URLs
  std::string out_dir;
  std::string size = "64x64";
  executor_flags exec;
  std::uint64_t max_pixels = th::options{}.max_pixels;
  double timeout_s = 60;  // per download
  // --random-urls
  std::string random_base;
  std::size_t producers = 2, consumers = 4, queue_size = 64;
  std::uint64_t limit = 0;
  std::string limiter = "semaphore";
  std::string rate;
  std::uint64_t seed = 0;
  bool seed_set = false;
};

// What happened to every item, its line, and the progress: one place, called
// from any thread.
class tally {
 public:
  explicit tally(std::string job) : job_(job), progress_(std::move(job)) {}
  /// For the progress line; 0: open-ended.
  void set_total(std::uint64_t total) {
    std::scoped_lock lock(mutex_);
    total_ = total;
  }
  void add(const std::string& item, const th::report& r, const std::string& out) {
    std::scoped_lock lock(mutex_);
    add_locked(item, r, out);
    progress_.update(made + skipped + failed, total_, "images");
  }
  void fail(const std::string& item, const std::string& reason) {
    add(item, th::report{th::outcome::failed, reason}, "");
  }
  void finish_progress() {
    std::scoped_lock lock(mutex_);
    progress_.finish();
  }
  std::uint64_t made = 0, skipped = 0, failed = 0;  // read after the work ends

 private:
  void add_locked(const std::string& item, const th::report& r, const std::string& out) {
    switch (r.what) {
      case th::outcome::made:
        ++made;
        if (!globals().json) std::printf("Saved %s\n", out.c_str());
        break;
      case th::outcome::skipped:
        ++skipped;
        print_error(job_, item + ": skipped, " + r.reason);
        break;
      case th::outcome::failed:
        ++failed;
        print_error(job_, item + ": " + r.reason);
        break;
    }
  }
  std::string job_;
  std::mutex mutex_;
  progress_line progress_;
  std::uint64_t total_ = 0;
};

th::options image_options(const thumbnail_cli& o) {
  auto size = th::parse_size(o.size);
  if (!size.ok()) throw usage_error("--size: " + size.error().message());
  th::options t;
  t.width = size->first;
  t.height = size->second;
  t.max_pixels = o.max_pixels;
  return t;
}

bool is_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

// The seed's name for a URL: ".../<a>/<b>.jpg" -> "<a>_<b>_thumb.png".
std::string url_thumb_name(std::string url) {
  url = url.substr(0, url.find_first_of("?#"));
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto last = url.rfind('/');
  const std::string b = last == std::string::npos ? url : url.substr(last + 1);
  const std::string rest = last == std::string::npos ? "" : url.substr(0, last);
  const auto prev = rest.rfind('/');
  std::string a = prev == std::string::npos ? rest : rest.substr(prev + 1);
  std::string stem = b.substr(0, b.find('.'));
  if (stem.empty()) stem = "image";
  if (a.empty() || a[0] == '.') a = "url";
  return a + "_" + stem + "_thumb.png";
}

struct summary_info {
  const char* mode;
  std::uint64_t duplicates = 0, dropped = 0, produced = 0;
};

int finish(const std::string& job, tally& t, std::chrono::steady_clock::duration elapsed, const summary_info& extra,
           const std::string& details) {
  std::string work = fmt::format("{} thumbnails made, {} skipped (not images), {} failed", t.made, t.skipped, t.failed);
  if (extra.produced) work += fmt::format(", {} URLs produced", extra.produced);
  if (extra.duplicates) work += fmt::format(", {} duplicate names skipped", extra.duplicates);
  if (extra.dropped) work += fmt::format(", {} URLs left unfetched at the end", extra.dropped);
  print_summary(job, work, elapsed, static_cast<double>(t.made), "images", details);
  if (globals().json)
    std::printf("%s\n", nlohmann::json{{"job", job},
                                       {"mode", extra.mode},
                                       {"made", t.made},
                                       {"skipped", t.skipped},
                                       {"failed", t.failed},
                                       {"produced", extra.produced},
                                       {"duplicates", extra.duplicates},
                                       {"dropped", extra.dropped},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  return t.failed > 0 ? exit_failed : exit_ok;
}

// ---- files: DIR... or FILE... ----------------------------------------------

struct file_job {
  std::string in, out;
};

// Every image candidate under the inputs, with its output name: a file
// name.ext becomes name_thumb.png, directories mirrored under OUTDIR. When two
// files of one directory share a stem (a.jpg, a.png), the later ones keep
// their extension (a.png_thumb.png), so no thumbnail overwrites another.
std::vector<file_job> list_files(const thumbnail_cli& o, tally& t, std::uint64_t& walk_errors) {
  std::vector<std::pair<std::string, std::string>> found;  // input path, path relative to OUTDIR
  for (const auto& input : o.inputs) {
    std::error_code ec;
    const auto st = fs::status(input, ec);
    if (ec || !fs::exists(st)) {
      t.fail(input, "cannot read: no such file or directory");
      continue;
    }
    if (!fs::is_directory(st)) {
      found.emplace_back(input, fs::path(input).filename().string());
      continue;
    }
    std::vector<std::string> paths;
    std::mutex m;
    jobs::find::walk_options wo;
    wo.regular_files_only = true;
    auto r = jobs::find::walk(
        input, "", wo,
        [&](std::string_view batch) {
          std::scoped_lock lock(m);
          for (std::size_t at = 0; at < batch.size();) {
            const auto nl = batch.find('\n', at);
            paths.emplace_back(batch.substr(at, nl - at));
            at = nl + 1;
          }
        },
        [&](const std::string& message) {
          std::scoped_lock lock(m);
          ++walk_errors;
          print_error("thumbnail", message);
        });
    if (!r.ok()) {
      t.fail(input, r.error().message());
      continue;
    }
    const fs::path base = fs::absolute(input).lexically_normal();
    for (auto& p : paths) found.emplace_back(p, fs::absolute(p).lexically_normal().lexically_relative(base).string());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<file_job> jobs;
  std::set<std::string> taken;
  for (const auto& [in, rel] : found) {
    const fs::path r(rel);
    std::string out = (fs::path(o.out_dir) / r.parent_path() / (r.stem().string() + "_thumb.png")).string();
    if (!taken.insert(out).second) {
      out = (fs::path(o.out_dir) / r.parent_path() / (r.filename().string() + "_thumb.png")).string();
      taken.insert(out);
    }
    jobs.push_back({in, out});
  }
  return jobs;
}

int run_files(const thumbnail_cli& o) {
  const th::options opts = image_options(o);
  tally t("thumbnail");
  std::uint64_t walk_errors = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto items = list_files(o, t, walk_errors);
  auto ex = o.exec.make();
  std::vector<core::bytes> payloads;
  payloads.reserve(items.size());
  for (const auto& it : items) payloads.push_back(th::encode_file_call(it.in, it.out, opts));
  t.set_total(items.size());
  ex->map_streaming(th::file_task, std::move(payloads), [&](std::size_t i, result<core::bytes>& r) {
    if (r.ok())
      t.add(items[i].in, th::decode_report(r.value()), items[i].out);
    else
      t.fail(items[i].in, "the decoder failed: " + r.error().message());
  });
  t.finish_progress();
  ex->close();
  summary_info extra{"files"};
  const int rc = finish("thumbnail", t, std::chrono::steady_clock::now() - t0, extra,
                        fmt::format("{} -j {}", o.exec.executor, ex->concurrency()));
  return walk_errors > 0 ? exit_failed : rc;
}

// ---- URL...: downloads on the event loop, images on the executor ------------

int run_urls(const thumbnail_cli& o) {
  const th::options opts = image_options(o);
  tally t("thumbnail");
  const auto t0 = std::chrono::steady_clock::now();
  auto ex = o.exec.make();
  net::fetch_options fo;
  fo.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  fo.keep_body = true;
  fo.max_body = std::uint64_t{64} << 20;
  fo.max_parallel = 16;
  // Names: the seed's rule; a name met again gets -2, -3... so nothing is overwritten.
  std::vector<std::string> outs;
  std::map<std::string, int> seen;
  for (const auto& url : o.inputs) {
    std::string name = url_thumb_name(url);
    if (const int n = ++seen[name]; n > 1)
      name = name.substr(0, name.size() - 10) + "-" + std::to_string(n) + "_thumb.png";
    outs.push_back((fs::path(o.out_dir) / name).string());
  }
  // Backpressure: at most 2 images per worker wait for the executor; beyond
  // that the event loop (and so the downloads) pauses.
  const std::size_t max_pending = 2 * ex->concurrency();
  std::mutex m;
  std::condition_variable cv;
  std::size_t pending = 0;
  t.set_total(o.inputs.size());
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  net::fetch_all(o.inputs, fo, [&](std::size_t i, net::fetch_result& r) {
    const std::string& url = o.inputs[i];
    if (!r.error.ok()) return t.fail(url, r.error.message());
    if (r.status >= 400) return t.fail(url, "HTTP " + std::to_string(r.status));
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return pending < max_pending; });
      ++pending;
    }
    std::vector<core::task_call> calls;
    calls.push_back({th::buffer_task, th::encode_buffer_call(r.body, outs[i], opts)});
    ex->dispatch(std::move(calls), [&, i](std::size_t, result<core::bytes> res) {
      if (res.ok())
        t.add(o.inputs[i], th::decode_report(res.value()), outs[i]);
      else
        t.fail(o.inputs[i], "the decoder failed: " + res.error().message());
      std::scoped_lock lock(m);
      --pending;
      cv.notify_all();
    });
  });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return pending == 0; });
  }
  t.finish_progress();
  ex->close();
  summary_info extra{"urls"};
  return finish("thumbnail", t, std::chrono::steady_clock::now() - t0, extra,
                fmt::format("downloads 16 at once, images on {} -j {}", o.exec.executor, ex->concurrency()));
}

// ---- --random-urls: producers -> bounded queue -> consumers -----------------

// The seed's ThumbnailURL_Generator: sizes from its list, colours of three
// distinct hex digits.
class url_generator {
 public:
  url_generator(std::string base, std::uint64_t seed) : base_(std::move(base)), rng_(seed) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }
  std::string next() {
    static constexpr int sizes[] = {240, 320, 360, 480, 600, 720};
    std::uniform_int_distribution<int> pick(0, 5);
    const int w = sizes[pick(rng_)], h = sizes[pick(rng_)];
    return fmt::format("{}/{}x{}/{}/{}.jpg", base_, w, h, colour(), colour());
  }

 private:
  std::string colour() {
    std::string digits = "0123456789abcdef";
    std::string c;
    for (int k = 0; k < 3; ++k) {
      std::uniform_int_distribution<std::size_t> pick(0, digits.size() - 1);
      const std::size_t at = pick(rng_);
      c += digits[at];
      digits.erase(at, 1);  // random.sample: distinct digits
    }
    return c;
  }
  std::string base_;
  std::mt19937_64 rng_;
};

int run_random(const thumbnail_cli& o) {
  const th::options opts = image_options(o);
  std::unique_ptr<core::rate_limiter> rate;
  if (!o.rate.empty()) {
    auto r = core::rate_limiter::parse(o.rate);
    if (!r.ok()) throw usage_error("--rate: " + r.error().message());
    rate = std::make_unique<core::rate_limiter>(r.value());
  }
  std::unique_ptr<core::count_limiter> limiter;
  if (o.limit > 0) limiter = core::make_limiter(core::parse_limiter_kind(o.limiter).value(), o.limit);
  const std::uint64_t seed = o.seed_set ? o.seed : std::random_device{}();

  tally t("thumbnail");
  auto ex = o.exec.make();
  core::bounded_queue<std::string> queue(o.queue_size);
  std::mutex names_mutex;
  std::set<std::string> names;  // thumbnail names made or in flight: a name counts once
  std::atomic<std::uint64_t> produced{0}, duplicates{0}, dropped{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> consumers_left{o.consumers};
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  net::fetch_options fo;
  fo.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  fo.keep_body = true;
  fo.max_body = std::uint64_t{64} << 20;

  // The end, from whoever sees it first (the limit reached, or SIGINT/SIGTERM):
  // refuse new URLs and wake every producer; consumers drain what is queued.
  const auto stop = [&] {
    if (stopping.exchange(true)) return;
    queue.close();
    if (rate) rate->close();
  };
  const auto produce = [&](std::size_t k) {
    url_generator gen(o.random_base, seed + k);
    while (!stopping.load()) {
      if (rate && !rate->acquire()) break;
      if (!queue.push(gen.next())) break;
      ++produced;
    }
  };
  t.set_total(o.limit);
  const auto consume = [&] {
    while (auto url = queue.pop()) {
      if (stopping.load() && limiter && limiter->is_done()) {
        ++dropped;
        continue;
      }
      const std::string name = url_thumb_name(*url);
      {
        std::scoped_lock lock(names_mutex);
        if (!names.insert(name).second) {
          ++duplicates;
          continue;
        }
      }
      const auto release_name = [&] {
        std::scoped_lock lock(names_mutex);
        names.erase(name);
      };
      // Waits while the remaining places are all in flight; nullopt once the limit is reached.
      std::optional<core::limit_slot> slot = limiter ? limiter->acquire() : std::nullopt;
      if (limiter && !slot) {
        release_name();
        ++dropped;
        stop();
        continue;
      }
      auto r = net::fetch_one(*url, fo);
      th::report rep;
      if (!r.error.ok()) {
        rep = th::report{th::outcome::failed, r.error.message()};
      } else if (r.status >= 400) {
        rep = th::report{th::outcome::failed, "HTTP " + std::to_string(r.status)};
      } else {
        const std::string out = (fs::path(o.out_dir) / name).string();
        auto res = ex->submit(th::buffer_task, th::encode_buffer_call(r.body, out, opts));
        try {
          rep = th::decode_report(res.get());
        } catch (const std::exception& e) {
          rep = th::report{th::outcome::failed, std::string("the decoder failed: ") + e.what()};
        }
        if (rep.what == th::outcome::made) {
          if (slot) slot->commit();  // counts toward the limit only once the file exists
          t.add(*url, rep, out);
        }
      }
      if (rep.what != th::outcome::made) {
        release_name();  // the slot, if any, is released as `slot` goes
        t.add(*url, rep, "");
      }
      if (limiter && limiter->is_done()) stop();
    }
    --consumers_left;
  };

  const std::stop_token stop_requested = core::stop_signals::install().token();

  const auto t0 = std::chrono::steady_clock::now();
  {
    core::thread_pool pool(o.producers + o.consumers);  // long-running loops, one thread each
    for (std::size_t k = 0; k < o.producers; ++k) pool.detach([&, k] { produce(k); });
    for (std::size_t k = 0; k < o.consumers; ++k) pool.detach(consume);
    // The supervisor: turns a signal into a clean stop (a handler may only set a flag).
    while (consumers_left.load() > 0) {
      if (stop_requested.stop_requested()) stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    pool.close();
  }
  t.finish_progress();
  ex->close();
  summary_info extra{"random-urls"};
  extra.produced = produced.load();
  extra.duplicates = duplicates.load();
  extra.dropped = dropped.load();
  const std::string details =
      fmt::format("{} producers, {} consumers, queue {}, {}{}images on {} -j {}", o.producers, o.consumers,
                  o.queue_size, limiter ? fmt::format("limit {} ({}), ", o.limit, o.limiter) : "",
                  rate ? fmt::format("rate {}, ", o.rate) : "", o.exec.executor, ex->concurrency());
  const int rc = finish("thumbnail", t, std::chrono::steady_clock::now() - t0, extra, details);
  if (stop_requested.stop_requested()) globals().stopped_by_signal = true;  // ends as the signal does
  return rc;
}

int run(thumbnail_cli& o) {
  if (o.out_dir.empty()) throw usage_error("-o OUTDIR is required");
  if (!o.random_base.empty()) {
    if (!o.inputs.empty()) throw usage_error("--random-urls takes no other inputs");
    if (o.producers == 0 || o.consumers == 0) throw usage_error("--producers and --consumers must be at least 1");
    return run_random(o);
  }
  if (o.inputs.empty()) throw usage_error("give a DIR, files, URLs, or --random-urls BASE");
  const auto urls = std::count_if(o.inputs.begin(), o.inputs.end(), is_url);
  if (urls > 0 && urls != static_cast<long>(o.inputs.size()))
    throw usage_error("give either URLs or files and directories, not both");
  if (o.limit > 0 || !o.rate.empty()) throw usage_error("--limit and --rate belong to --random-urls");
  return urls > 0 ? run_urls(o) : run_files(o);
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<thumbnail_cli>();
  auto* cmd = &command;
  cmd->add_option("inputs", o->inputs, "directories (walked recursively), image files, or http(s) URLs");
  cmd->add_option("-o,--output", o->out_dir, "output directory (created)");
  cmd->add_option("--size", o->size, "fit the thumbnail in WxH, keeping the aspect ratio (never enlarged)")
      ->capture_default_str();
  o->exec.add_to(*cmd, "threads,processes", "processes");  // isolated decoders, and measured faster
  cmd->add_option("--task-timeout", o->exec.task_timeout_s,
                  "processes: a decode running longer than this many seconds kills its worker and fails")
      ->check(CLI::Range(0.0, 86400.0))
      ->default_val(60);
  cmd->add_option("--max-pixels", o->max_pixels, "refuse images that declare more pixels (read from the header)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout_s, "URLs: seconds per download")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option(
      "--random-urls", o->random_base,
      "the seed's producer/consumer: producers make BASE/<W>x<H>/<bg>/<fg>.jpg URLs, consumers thumbnail them");
  cmd->add_option("--producers", o->producers, "--random-urls: producer threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--consumers", o->consumers, "--random-urls: consumer threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--queue-size", o->queue_size, "--random-urls: URLs the queue holds")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "--random-urls: stop after exactly N distinct thumbnails (0: until interrupted)")
      ->capture_default_str();
  cmd->add_option("--limiter", o->limiter,
                  "--random-urls: how the limit is kept: lock or semaphore (the seed's two savers)")
      ->check(CLI::IsMember({"lock", "semaphore"}))
      ->capture_default_str();
  cmd->add_option("--rate", o->rate, "--random-urls: at most this many URLs produced per unit, as N/min, N/s or N/h");
  cmd->add_option_function<std::uint64_t>(
      "--seed", [o](std::uint64_t s) { o->seed = s, o->seed_set = true; },
      "--random-urls: random seed of the producers");
  cmd->footer(
      "A file name.ext becomes OUTDIR/name_thumb.png (subdirectories mirrored); a URL .../<a>/<b>.jpg becomes "
      "OUTDIR/<a>_<b>_thumb.png. Images are recognised by their content. Each item that is not an image, cannot "
      "be fetched or decoded, or is too large is a line on stderr, counted in the summary.");
  cmd->callback([o] {
    o->exec.max_attempts = 1;  // a file that kills a decoder will kill it again
    run_job("thumbnail", [&] { return run(*o); });
  });
}

const command_registration registered{{"thumbnail", add_command, jobs::thumbnail::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
