#pragma once
// The thumbnail job: chapter 5's thumbnailer (Pillow's Image.thumbnail) on
// libvips. An image is shrunk on load to fit in width x height keeping its
// aspect ratio (never enlarged), turned upright by its EXIF orientation,
// converted to sRGB from whatever profile or colour space it has (CMYK
// included), its first frame when animated, and written as PNG atomically.
//
// Outcomes are values, so that they cross process boundaries intact: made,
// skipped (not an image: recognised by content, not by name) or failed with a
// reason class (truncated, corrupt, too large, cannot write).
//
// The three jobs of `scalekit thumbnail` (files, URLs, random URLs) are at the
// end: each has the one shape of every job (core/job.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/limiter.h"
#include "scalekit/core/status.h"

namespace scalekit::core {
class executor;
}

namespace scalekit::jobs::thumbnail {

struct options {
  std::uint32_t width = 64, height = 64;
  /// Images that declare more pixels are refused from their header, before
  /// any pixel is decoded or allocated (decompression bombs).
  std::uint64_t max_pixels = 100'000'000;
};

/// "WxH" or "N" (N x N); sides 1..10000.
result<std::pair<std::uint32_t, std::uint32_t>> parse_size(std::string_view text);

enum class outcome : std::uint8_t { made, skipped, failed };

struct report {
  outcome what = outcome::failed;
  std::string reason;                   ///< skipped/failed: "not an image", "truncated: ...", "too large: ...", ...
  std::uint32_t width = 0, height = 0;  ///< made: the thumbnail's size
  std::uint32_t source_width = 0, source_height = 0;
};

/// Thumbnail of the image file `in`, written to `out` (a PNG; parent
/// directories are created).
report from_file(const std::string& in, const std::string& out, const options& o);
/// Thumbnail of an image held in memory (a download).
report from_buffer(std::string_view data, const std::string& out, const options& o);
/// Thumbnail of an image held in memory, its PNG bytes into `png` (a server's
/// answer); `png` is untouched unless the report says made. Thread-safe.
report to_png(std::string_view data, const options& o, std::string& png);

/// Registers the tasks the jobs below send to their executor (one image from
/// a file, one from a buffer), so that images run on threads or in isolated
/// processes: a decoder that crashes or hangs costs that one item. Worker
/// processes call it before they serve.
void register_tasks();

// ---- The jobs: three sources, one image path ---------------------------------
//
// Each job reports per item to the observer: "Saved <out>" as an output line
// for each thumbnail made; "<item>: skipped, not an image" and "<item>:
// <reason>" as messages. Progress is in images. The report's work says how many
// were made, skipped and failed; its fields (JSON keys) are mode, made,
// skipped, failed, produced, duplicates and dropped (0 outside the random-URL
// job), and the executor's. report.failures counts the failed items (and, for
// files, the entries the walk could not read): the command line exits 1 then.
// Each job returns invalid_argument for options it refuses (a size out of
// range, an empty output directory, ...). Items run on the executor given,
// which the job cancels when a stop is requested (core::cancel_on_stop): it
// takes no more work afterwards. Thread safety: the calls are independent;
// two may run at once when their outputs do not meet.

/// `scalekit thumbnail DIR... FILE...`: every regular file under the
/// directories (walked in parallel, symbolic links not followed) and every
/// file named. A file name.ext becomes out_dir/name_thumb.png, subdirectories
/// mirrored; a second file of the same stem in one directory keeps its
/// extension (a.png_thumb.png), so no thumbnail overwrites another. Images
/// are recognised by content. "Saved" lines come in the order of the output
/// paths.
struct files_options {
  std::vector<std::string> inputs;  ///< directories and files
  std::string out_dir;              ///< created when missing
  options image;
};
/// The report adds "unreadable" (entries the walk could not read). Returns
/// cancelled after a stop request (thumbnails made by then stay).
result<core::report> run_files(const files_options& o, core::executor& ex, core::observer& obs);

/// `scalekit thumbnail URL...`: downloads max_parallel at once on one event
/// loop (net::fetch_all) and thumbnails each body on the executor; at most 2
/// bodies per worker wait for it (beyond that the downloads pause). A URL
/// .../<a>/<b>.jpg becomes out_dir/<a>_<b>_thumb.png; a name met again gets
/// -2, -3, ... ("<a>_<b>-2_thumb.png"). "Saved" lines come as images finish.
struct urls_options {
  std::vector<std::string> urls;  ///< http:// or https://
  std::string out_dir;            ///< created when missing
  options image;
  std::chrono::milliseconds timeout{60000};  ///< per download
  std::size_t max_parallel = 16;             ///< downloads at once (at least 1)
};
/// The report adds "downloads_at_once". Returns cancelled after a stop request
/// that left URLs undone: downloads in flight are abandoned.
result<core::report> run_urls(const urls_options& o, core::executor& ex, core::observer& obs);

/// `scalekit thumbnail --random-urls BASE`: the seed's producer/consumer.
///
///   producers ──rate──> bounded queue ──> consumers: claim the name, take a
///   (URL generator)     (queue_size)      limit slot, fetch_one, thumbnail on
///                                         the executor, commit when the file exists
///
/// Producers make BASE/<W>x<H>/<bg>/<fg>.jpg URLs (the seed's sizes, colours
/// of three distinct hex digits; producer k draws from seed + k). A name met
/// again is a duplicate, skipped: with a limit, exactly `limit` distinct
/// thumbnails are made, whichever limiter keeps it, even when downloads or
/// decodes fail (a failure gives its place back). Then, or after a stop
/// request, the queue and the rate limiter close: producers end at once,
/// queued URLs are dropped ("left unfetched"), consumers end. After a stop
/// request downloads in flight are abandoned and the job ends within about a
/// second; it still returns its report (every thumbnail it counts exists,
/// none it does not count is left), with the field "stopped" true: without a
/// limit, a stop is how the seed's job ends. The caller decides what that
/// means (the command line ends as the signal does).
struct random_options {
  std::string base;     ///< http(s)://HOST[:PORT][/PREFIX]
  std::string out_dir;  ///< created when missing
  options image;
  std::chrono::milliseconds timeout{60000};  ///< per download
  std::size_t producers = 2, consumers = 4;  ///< threads, at least 1 each
  std::size_t queue_size = 64;               ///< URLs the queue holds (at least 1)
  std::uint64_t limit = 0;                   ///< thumbnails to make; 0: until a stop is requested
  core::limiter_kind limiter = core::limiter_kind::semaphore;
  /// URLs the producers may make together per unit of time: "N/s", "N/min",
  /// "N/h" (core::rate_limiter::parse); empty: as fast as the queue takes them.
  std::string rate;
  std::optional<std::uint64_t> seed;  ///< none: a random one (in the report)
  /// Give up after this many URLs in a row failed to give a thumbnail (a
  /// failed download, an HTTP error, not an image, a failed decode): only
  /// thumbnails made count toward the limit, so with a BASE that serves no
  /// image the job would never end. 0: never give up.
  std::uint64_t max_consecutive_failures = 20;
};
/// The report adds producers, consumers, queue_size, limit and limiter (with a
/// limit), rate (when set), seed and stopped. Progress is the thumbnails made
/// of the limit. invalid_argument also for a base that is not http(s) and a
/// rate that does not parse ("--rate: ..."); io_error "gave up after N URLs in
/// a row failed (the last: URL: reason); ..." after max_consecutive_failures
/// (the job ends as a stop ends it, the thumbnails made stay); internal when a
/// producer or consumer failed (the others are ended first).
result<core::report> run_random_urls(const random_options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::jobs::thumbnail
