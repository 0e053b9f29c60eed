// Unit tests of the thumbnail jobs through their entries (run_files, run_urls,
// run_random_urls) on every local executor, with a real origin: the
// dummyimage server (a flaky one for the limits), or a silent one whose
// downloads never end (for the stop). Also the image path's pure parts: sizes,
// dummyimage paths, reports across the wire, the URL generator. (The HTTP
// layer the dummyimage server stands on is tested in tests/net/http_test.cc.)

#include "scalekit/jobs/thumbnail/thumbnail.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include "loopback.h"
#include "run_command.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/jobs/dummyimage/dummyimage.h"
#include "server_process.h"
#include "thumbnail/tally.h"
#include "thumbnail/tasks.h"
#include "thumbnail/url_generator.h"

namespace th = scalekit::jobs::thumbnail;
namespace di = scalekit::jobs::dummyimage;
namespace core = scalekit::core;
using core::executor_kind;
using scalekit::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

// `scalekit dummyimage serve` on a free port: the origin of the URL jobs.
struct dummyimage_origin : scalekit::testing::server_process {
  explicit dummyimage_origin(const std::string& args = "")
      : server_process(SCALEKIT_HEAVY_BINARY, "dummyimage serve " + args, "thumb-origin") {}
  [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + port(); }
};

// An origin that accepts connections and never answers: every download from
// it runs until its timeout, or until a stop abandons it.
class silent_origin {
 public:
  silent_origin() : listener_(scalekit::testing::listen_loopback()) {
    if (!listener_.ok()) throw std::runtime_error("silent_origin: cannot listen");
    accepter_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(listener_.fd(), nullptr, nullptr);
        if (c < 0) return;  // shut down
        accepted_.push_back(c);
      }
    });
  }
  ~silent_origin() {
    ::shutdown(listener_.fd(), SHUT_RDWR);
    accepter_.join();
    for (int c : accepted_) ::close(c);
  }
  silent_origin(const silent_origin&) = delete;
  silent_origin& operator=(const silent_origin&) = delete;
  [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(listener_.port()); }

 private:
  scalekit::testing::loopback_listener listener_;
  std::thread accepter_;
  std::vector<int> accepted_;  // touched by the accepter alone until it is joined
};

std::unique_ptr<core::executor> make(executor_kind kind) { return core::make_executor(kind, {.jobs = 2}); }

th::files_options files_job(std::vector<std::string> inputs, const temp_dir& out) {
  th::files_options o;
  o.inputs = std::move(inputs);
  o.out_dir = out.path.string();
  return o;
}

th::urls_options urls_job(std::vector<std::string> urls, const temp_dir& out) {
  th::urls_options o;
  o.urls = std::move(urls);
  o.out_dir = out.path.string();
  return o;
}

th::random_options random_job(const std::string& base, const temp_dir& out) {
  th::random_options o;
  o.base = base;
  o.out_dir = out.path.string();
  return o;
}

std::uint64_t count_field(const core::report& r, std::string_view key) {
  const core::report_value* v = r.find(key);
  if (v == nullptr || !std::holds_alternative<std::uint64_t>(*v)) {
    ADD_FAILURE() << "no count field " << key;
    return 0;
  }
  return std::get<std::uint64_t>(*v);
}

bool bool_field(const core::report& r, std::string_view key) {
  const core::report_value* v = r.find(key);
  return v != nullptr && std::holds_alternative<bool>(*v) && std::get<bool>(*v);
}

// Every regular file under `dir`, relative to it (temporaries included: none may be left).
std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.insert(e.path().lexically_relative(dir).string());
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string image(std::uint32_t w, std::uint32_t h, bool png) {
  di::image_spec spec;
  spec.width = w;
  spec.height = h;
  spec.png = png;
  return di::render(spec);
}

void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// Runs `job` on this thread, requests the stop after `after`, and returns how
// long the job took to return once the stop was requested.
template <class Job>
std::chrono::steady_clock::duration stop_after(std::chrono::milliseconds after, std::stop_source& stop, Job&& job) {
  std::atomic<std::int64_t> stopped_at{0};
  std::thread stopper([&] {
    std::this_thread::sleep_for(after);
    stopped_at = std::chrono::steady_clock::now().time_since_epoch().count();
    stop.request_stop();
  });
  job();
  const auto returned = std::chrono::steady_clock::now();
  stopper.join();
  return returned - std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(stopped_at.load()));
}

}  // namespace

// ---- the image path -----------------------------------------------------------

TEST(Thumbnail, ParseSize) {
  EXPECT_EQ(th::parse_size("64x48").value(), std::make_pair(64u, 48u));
  EXPECT_EQ(th::parse_size("128").value(), std::make_pair(128u, 128u));
  for (const char* bad : {"", "x", "0x5", "5x0", "64x", "x64", "10001x5", "-1x5", "64x48x2", "6 4"})
    EXPECT_FALSE(th::parse_size(bad).ok()) << bad;
}

TEST(Thumbnail, ReportsSurviveTheWire) {
  th::report r{th::outcome::failed, "truncated: premature end", 0, 0, 640, 480};
  const auto back = th::detail::decode_report(th::detail::encode_report(r));
  EXPECT_EQ(back.what, th::outcome::failed);
  EXPECT_EQ(back.reason, r.reason);
  EXPECT_EQ(back.source_width, 640u);
  EXPECT_EQ(back.source_height, 480u);
}

// Toward --limit only the thumbnails made count: 39 failed downloads of a
// limit of 2 showed "1950.0% (39/2 images)" (issue 16).
TEST(ThumbnailTally, ProgressTowardALimitCountsOnlyWhatWasMade) {
  core::collecting_observer obs;
  th::detail::tally t(obs);
  t.set_total(2, /*made_only=*/true);
  for (int i = 0; i < 39; ++i) t.fail("http://x/" + std::to_string(i), "HTTP 404");
  EXPECT_EQ(obs.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{0, 2}));
  t.add("http://x/ok", th::report{th::outcome::made, "", 8, 8, 8, 8}, "ok_thumb.png");
  EXPECT_EQ(obs.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{1, 2}));
  EXPECT_EQ(t.done(), 40u);
  // A directory's progress counts every item.
  core::collecting_observer all;
  th::detail::tally files(all);
  files.set_total(3);
  files.fail("a", "not an image");
  EXPECT_EQ(all.last_progress(), (std::pair<std::uint64_t, std::uint64_t>{1, 3}));
}

TEST(Dummyimage, ParseTarget) {
  const auto ok = di::parse_target("/320x240/fff/00aa00.png?x=1");
  ASSERT_EQ(ok.status, 200) << ok.message;
  EXPECT_EQ(ok.spec.width, 320u);
  EXPECT_EQ(ok.spec.height, 240u);
  EXPECT_EQ(ok.spec.bg[0], 255);
  EXPECT_EQ(ok.spec.fg[1], 0xaa);
  EXPECT_TRUE(ok.spec.png);
  EXPECT_FALSE(di::parse_target("/1x1/000/fff.jpg").spec.png);
  for (const char* nf : {"/", "/320x240", "/320x240/fff", "/320x240/fff/000.gif", "/a/b/c/d.jpg", "/320x240/fff/000"})
    EXPECT_EQ(di::parse_target(nf).status, 404) << nf;
  for (const char* bad : {"/0x240/fff/000.jpg", "/4001x2/fff/000.jpg", "/axb/fff/000.jpg", "/32x24/ffff/000.jpg",
                          "/32x24/fff/0g0.jpg", "/32x24/fff/.jpg"})
    EXPECT_EQ(di::parse_target(bad).status, 400) << bad;
}

// A rendered dummy image through the buffer path: the thumbnail fits the box.
TEST(Thumbnail, FromBufferAndFromFile) {
  temp_dir d("thumb-unit");
  const std::string png = image(300, 100, true);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const auto made = th::from_buffer(png, d / "t.png", {});
  ASSERT_EQ(made.what, th::outcome::made) << made.reason;
  EXPECT_EQ(made.width, 64u);
  EXPECT_EQ(made.height, 21u);
  EXPECT_EQ(made.source_width, 300u);
  const auto again = th::from_file(d / "t.png", d / "t2.png", {.width = 32, .height = 32});
  ASSERT_EQ(again.what, th::outcome::made) << again.reason;
  EXPECT_EQ(again.width, 32u);
  EXPECT_EQ(th::from_buffer("<html></html>", d / "x.png", {}).what, th::outcome::skipped);
  const auto small_limit = th::from_buffer(png, d / "y.png", {.max_pixels = 1000});
  EXPECT_EQ(small_limit.what, th::outcome::failed);
  EXPECT_EQ(small_limit.reason.rfind("too large: 300x100 = 30000 pixels", 0), 0u) << small_limit.reason;
  EXPECT_EQ(th::from_file(d / "missing.png", d / "z.png", {}).reason.rfind("cannot read", 0), 0u);
}

// to_png (serve's POST /thumbnail): the same thumbnail as from_buffer writes,
// in memory; a JPEG too; a body that is no image leaves the output alone.
TEST(Thumbnail, ToPngIsFromBufferInMemory) {
  temp_dir d("thumb-to-png");
  const std::string png = image(300, 100, true);
  std::string out;
  const auto made = th::to_png(png, {.width = 50, .height = 50}, out);
  ASSERT_EQ(made.what, th::outcome::made) << made.reason;
  EXPECT_EQ(made.width, 50u);
  EXPECT_EQ(made.height, 17u);
  ASSERT_EQ(th::from_buffer(png, d / "t.png", {.width = 50, .height = 50}).what, th::outcome::made);
  std::ifstream written(d / "t.png", std::ios::binary);
  EXPECT_EQ(out, std::string(std::istreambuf_iterator<char>(written), {}));
  std::string from_jpeg;
  const auto jpeg = th::to_png(image(120, 240, false), {}, from_jpeg);
  ASSERT_EQ(jpeg.what, th::outcome::made) << jpeg.reason;
  EXPECT_EQ(jpeg.height, 64u);
  EXPECT_EQ(from_jpeg.substr(1, 3), "PNG");
  std::string untouched = "kept";
  EXPECT_EQ(th::to_png("plain words, not an image", {}, untouched).what, th::outcome::skipped);
  const std::string whole_jpeg = image(300, 100, false), jpeg_cut = whole_jpeg.substr(0, whole_jpeg.size() / 2);
  const auto cut = th::to_png(jpeg_cut, {}, untouched);
  EXPECT_EQ(cut.what, th::outcome::failed);
  EXPECT_EQ(cut.reason.rfind("truncated: ", 0), 0u) << cut.reason;
  // libvips' buffer loaders, unlike its file loaders, made a thumbnail of a cut PNG until told to fail_on.
  const auto png_cut = th::to_png(png.substr(0, png.size() / 2), {}, untouched);
  EXPECT_EQ(png_cut.what, th::outcome::failed);
  EXPECT_EQ(png_cut.reason, "truncated: vipspng: libpng read error");  // a cut PNG is named so (issue 16)
  write_file(d / "cut.png", png.substr(0, png.size() / 2));
  EXPECT_EQ(th::from_file(d / "cut.png", d / "cut_thumb.png", {}).reason, png_cut.reason);
  EXPECT_EQ(th::to_png(std::string("\x89PNG\r\n\x1A\n", 8) + "then nothing a PNG has", {}, untouched).what,
            th::outcome::failed);
  EXPECT_EQ(untouched, "kept");
}

// The seed's generator: its sizes, three distinct hex digits per colour, the
// same URLs for the same seed.
TEST(ThumbnailUrlGenerator, MakesTheSeedsUrlsRepeatablyForASeed) {
  th::detail::url_generator a("http://h:1/p//", 7), b("http://h:1/p", 7), c("http://h:1/p", 8);
  const std::set<std::string> sides = {"240", "320", "360", "480", "600", "720"};
  bool differs = false;
  for (int i = 0; i < 200; ++i) {
    const std::string url = a.next();
    EXPECT_EQ(url, b.next());
    differs = differs || url != c.next();
    ASSERT_EQ(url.rfind("http://h:1/p/", 0), 0u) << url;
    std::string w, h, bg, fg;
    std::istringstream parts(url.substr(13));
    std::getline(parts, w, 'x');
    std::getline(parts, h, '/');
    std::getline(parts, bg, '/');
    std::getline(parts, fg, '.');
    EXPECT_TRUE(sides.count(w) && sides.count(h)) << url;
    for (const std::string& colour : {bg, fg}) {
      ASSERT_EQ(colour.size(), 3u) << url;
      EXPECT_EQ(colour.find_first_not_of("0123456789abcdef"), std::string::npos) << url;
      EXPECT_TRUE(colour[0] != colour[1] && colour[0] != colour[2] && colour[1] != colour[2]) << url;
    }
    EXPECT_EQ(url.substr(url.size() - 4), ".jpg");
  }
  EXPECT_TRUE(differs);
}

// Options a job refuses are invalid_argument (the command line's exit status 2).
TEST(ThumbnailJobs, RefuseBadOptions) {
  temp_dir out("thumb-bad");
  auto ex = make(executor_kind::serial);
  core::observer obs;
  const auto code = [](const auto& r) { return r.ok() ? scalekit::status_code::ok : r.error().code(); };
  th::random_options r = random_job("http://127.0.0.1:1", out);
  r.rate = "fast";
  auto bad_rate = th::run_random_urls(r, *ex, obs);
  ASSERT_FALSE(bad_rate.ok());
  EXPECT_EQ(bad_rate.error().code(), scalekit::status_code::invalid_argument);
  EXPECT_EQ(bad_rate.error().message().rfind("--rate: rate 'fast'", 0), 0u) << bad_rate.error().message();
  r.rate = "";
  r.producers = 0;
  EXPECT_EQ(code(th::run_random_urls(r, *ex, obs)), scalekit::status_code::invalid_argument);
  r.producers = 1;
  r.base = "ftp://127.0.0.1/";
  EXPECT_EQ(code(th::run_random_urls(r, *ex, obs)), scalekit::status_code::invalid_argument);
  EXPECT_EQ(code(th::run_files(files_job({}, out), *ex, obs)), scalekit::status_code::invalid_argument);
  th::files_options no_out = files_job({out.path.string()}, out);
  no_out.out_dir = "";
  EXPECT_EQ(code(th::run_files(no_out, *ex, obs)), scalekit::status_code::invalid_argument);
  th::urls_options no_width = urls_job({"http://127.0.0.1:1/a/b.jpg"}, out);
  no_width.image.width = 0;
  EXPECT_EQ(code(th::run_urls(no_width, *ex, obs)), scalekit::status_code::invalid_argument);
  EXPECT_TRUE(files_under(out.path).empty());
}

// ---- the jobs on every executor -------------------------------------------------

class ThumbnailOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {};

// Directories walked and mirrored, files named, stems that collide keep their
// extension; every outcome is a line and a count; "Saved" lines in output order.
TEST_P(ThumbnailOnEveryExecutor, FilesMirrorDirectoriesAndCountEveryOutcome) {
  temp_dir in("thumb-files-in"), out("thumb-files-out");
  write_file(in.path / "a.png", image(300, 100, true));
  write_file(in.path / "a.jpg", image(100, 300, false));
  write_file(in.path / "sub/b.png", image(50, 40, true));
  write_file(in.path / "sub/deep/c.jpg", image(640, 480, false));
  write_file(in.path / "notes.txt", "not an image\n");
  const std::string jpg = image(640, 480, false);
  write_file(in.path / "trunc.jpg", jpg.substr(0, jpg.size() / 2));
  const std::string missing = in / "missing";
  auto ex = make(GetParam());
  core::collecting_observer obs;
  auto r = th::run_files(files_job({in.path.string(), missing}, out), *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();

  EXPECT_EQ(files_under(out.path),
            (std::set<std::string>{"a_thumb.png", "a.png_thumb.png", "sub/b_thumb.png", "sub/deep/c_thumb.png"}));
  EXPECT_EQ(obs.text(), "Saved " + out / "a_thumb.png" + "\nSaved " + out / "a.png_thumb.png" + "\nSaved " +
                            out / "sub/b_thumb.png" + "\nSaved " + out / "sub/deep/c_thumb.png" + "\n");
  auto messages = obs.messages();
  std::sort(messages.begin(), messages.end());
  ASSERT_EQ(messages.size(), 3u) << ::testing::PrintToString(messages);
  EXPECT_EQ(messages[0], missing + ": cannot read: no such file or directory");
  EXPECT_EQ(messages[1], in / "notes.txt" + ": skipped, not an image");
  EXPECT_EQ(messages[2].rfind(in / "trunc.jpg" + ": truncated: ", 0), 0u) << messages[2];
  EXPECT_EQ(count_field(*r, "made"), 4u);
  EXPECT_EQ(count_field(*r, "skipped"), 1u);
  EXPECT_EQ(count_field(*r, "failed"), 2u);
  EXPECT_EQ(r->failures, 2u);
  EXPECT_EQ(r->unit, "images");
  EXPECT_EQ(r->items, 4.0);
  EXPECT_EQ(obs.last_progress(), std::make_pair(std::uint64_t{7}, std::uint64_t{7}));  // 6 files found, 1 missing
  EXPECT_EQ(r->summary_line().rfind("thumbnail: 4 thumbnails made, 1 skipped (not images), 2 failed in ", 0), 0u)
      << r->summary_line();
  EXPECT_NE(r->to_json().find("\"mode\":\"files\""), std::string::npos) << r->to_json();
}

// The process pool's workers of the command run scalekit-thumbnail,
// which links no libvips: the fast path's images and libvips' (a text file it
// sniffs, a cut JPEG it words) come out of it as they do in this process, byte
// for byte. A copy of the worker with no plugin beside it still makes the fast
// path's images, which shows they need no libvips; those that need it fail,
// saying why.
TEST(ThumbnailLeanWorker, MakesWhatThisProcessMakesAndLoadsLibvipsOnlyWhenNeeded) {
  temp_dir in("thumb-lean-in"), here("thumb-lean-here"), lean("thumb-lean-out"), alone("thumb-lean-alone");
  write_file(in.path / "a.png", image(300, 100, true));
  write_file(in.path / "b.jpg", image(100, 300, false));
  write_file(in.path / "notes.txt", "not an image\n");
  const std::string jpg = image(640, 480, false);
  write_file(in.path / "trunc.jpg", jpg.substr(0, jpg.size() / 2));
  const auto run = [&](const temp_dir& out, const std::string& worker) {
    auto ex = worker.empty() ? make(executor_kind::serial)
                             : core::make_executor(executor_kind::processes, {.jobs = 2, .worker_executable = worker});
    core::collecting_observer obs;
    auto r = th::run_files(files_job({in.path.string()}, out), *ex, obs);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    auto messages = obs.messages();
    std::sort(messages.begin(), messages.end());
    for (auto& m : messages) m = m.substr(m.find(": ") + 2);  // the reason, not the input's path
    return messages;
  };
  const auto expected = run(here, "");
  ASSERT_EQ(expected.size(), 2u) << ::testing::PrintToString(expected);
  EXPECT_EQ(run(lean, SCALEKIT_THUMBNAIL_WORKER), expected);
  const std::set<std::string> made{"a_thumb.png", "b_thumb.png"};
  ASSERT_EQ(files_under(lean.path), made);
  for (const auto& name : made)
    EXPECT_EQ(scalekit::testing::slurp(lean.path / name), scalekit::testing::slurp(here.path / name)) << name;

  temp_dir bin("thumb-lean-bin");
  fs::copy_file(SCALEKIT_THUMBNAIL_WORKER, bin.path / "scalekit-thumbnail");
  const auto without_plugin = run(alone, bin / "scalekit-thumbnail");
  EXPECT_EQ(files_under(alone.path), made);
  ASSERT_EQ(without_plugin.size(), 2u) << ::testing::PrintToString(without_plugin);
  for (const auto& m : without_plugin) EXPECT_NE(m.find("cannot load libvips' plugin"), std::string::npos) << m;
}

const std::string urls_unreachable = "http://127.0.0.1:1/x/y.jpg";  // port 1: nothing listens

// URLs: each body thumbnailed once under the seed's name, a name met again
// numbered; an HTTP error or no response is a failed item.
TEST_P(ThumbnailOnEveryExecutor, UrlsNameEachDownloadAndCountFailures) {
  dummyimage_origin origin;
  ASSERT_FALSE(origin.port().empty()) << origin.log();
  temp_dir out("thumb-urls");
  const std::string b = origin.base();
  const std::vector<std::string> urls = {b + "/320x240/fff/a00.jpg", b + "/600x720/0f0/123.png",
                                         b + "/40x30/fff/a00.png", b + "/99999x1/fff/000.jpg", urls_unreachable};
  auto ex = make(GetParam());
  core::collecting_observer obs;
  th::urls_options o = urls_job(urls, out);
  o.timeout = 10s;
  auto r = th::run_urls(o, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(files_under(out.path),
            (std::set<std::string>{"fff_a00_thumb.png", "0f0_123_thumb.png", "fff_a00-2_thumb.png"}));
  auto saved = lines_of(obs.text());
  std::sort(saved.begin(), saved.end());
  EXPECT_EQ(saved,
            (std::vector<std::string>{"Saved " + out / "0f0_123_thumb.png", "Saved " + out / "fff_a00-2_thumb.png",
                                      "Saved " + out / "fff_a00_thumb.png"}));
  const auto messages = obs.messages();
  ASSERT_EQ(messages.size(), 2u) << ::testing::PrintToString(messages);
  EXPECT_EQ(std::count(messages.begin(), messages.end(), urls[3] + ": HTTP 400"), 1);
  EXPECT_EQ(std::count_if(messages.begin(), messages.end(),
                          [](const std::string& m) { return m.rfind(urls_unreachable + ": cannot connect", 0) == 0; }),
            1)
      << ::testing::PrintToString(messages);
  EXPECT_EQ(count_field(*r, "made"), 3u);
  EXPECT_EQ(count_field(*r, "failed"), 2u);
  EXPECT_EQ(r->failures, 2u);
}

// The seed's producer/consumer with either saver: exactly N distinct files
// while every third download fails (a failure gives its place back).
TEST_P(ThumbnailOnEveryExecutor, RandomUrlsMakeExactlyTheLimitWhileDownloadsFail) {
  dummyimage_origin origin("--fail-every 3");
  ASSERT_FALSE(origin.port().empty()) << origin.log();
  for (const auto limiter : {core::limiter_kind::lock, core::limiter_kind::semaphore}) {
    temp_dir out("thumb-random");
    auto ex = make(GetParam());
    core::collecting_observer obs;
    th::random_options o = random_job(origin.base(), out);
    o.producers = 3;
    o.consumers = 6;
    o.limit = 12;
    o.limiter = limiter;
    o.seed = 7;
    auto r = th::run_random_urls(o, *ex, obs);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const auto made = count_field(*r, "made"), failed = count_field(*r, "failed");
    EXPECT_EQ(made, 12u);
    EXPECT_EQ(files_under(out.path).size(), 12u);
    EXPECT_EQ(lines_of(obs.text()).size(), 12u);
    EXPECT_GT(failed, 0u);
    EXPECT_EQ(r->failures, failed);
    EXPECT_EQ(obs.messages().size(), failed);
    for (const auto& m : obs.messages()) EXPECT_NE(m.find(": HTTP 503"), std::string::npos) << m;
    EXPECT_GE(count_field(*r, "produced"), made + failed + count_field(*r, "duplicates"));
    EXPECT_EQ(count_field(*r, "seed"), 7u);
    EXPECT_FALSE(bool_field(*r, "stopped"));
    EXPECT_EQ(obs.last_progress().second, 12u);
  }
}

// Without a limit the job runs until the stop, then ends within a second:
// queued URLs dropped, every thumbnail it counts exists and no other file is
// left (a call cancelled under way leaves nothing behind).
TEST_P(ThumbnailOnEveryExecutor, RandomUrlsEndWithinASecondOfAStop) {
  dummyimage_origin origin;
  ASSERT_FALSE(origin.port().empty()) << origin.log();
  temp_dir out("thumb-random-stop");
  auto ex = make(GetParam());
  std::stop_source stop;
  core::collecting_observer obs(stop.get_token());
  th::random_options o = random_job(origin.base(), out);
  o.seed = 3;
  scalekit::result<core::report> r = scalekit::status::internal("not run");
  const auto took = stop_after(800ms, stop, [&] { r = th::run_random_urls(o, *ex, obs); });
  EXPECT_LT(took, 1s);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(bool_field(*r, "stopped"));
  const auto made = count_field(*r, "made");
  EXPECT_GT(made, 0u);
  const auto files = files_under(out.path);
  EXPECT_EQ(files.size(), made) << ::testing::PrintToString(files) << "\n" << obs.text();
  EXPECT_EQ(lines_of(obs.text()).size(), made);
  EXPECT_EQ(count_field(*r, "failed"), 0u);
  EXPECT_TRUE(obs.messages().empty()) << obs.messages().front();
  EXPECT_NE(r->summary_line().find("stopped"), std::string::npos) << r->summary_line();
}

INSTANTIATE_TEST_SUITE_P(Executors, ThumbnailOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(core::to_string(p.param)); });

// ---- rate and stop ------------------------------------------------------------

// --rate caps what the producers make together: at most one burst plus rate x time.
TEST(ThumbnailRandomUrls, TheRateBoundsTheProducers) {
  dummyimage_origin origin;
  ASSERT_FALSE(origin.port().empty()) << origin.log();
  temp_dir out("thumb-rate");
  auto ex = make(executor_kind::threads);
  core::collecting_observer obs;
  th::random_options o = random_job(origin.base(), out);
  o.producers = 4;
  o.consumers = 4;
  o.limit = 10;
  o.rate = "20/s";
  o.seed = 3;
  auto r = th::run_random_urls(o, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(count_field(*r, "made"), 10u);
  const double elapsed = std::chrono::duration<double>(r->elapsed).count();
  EXPECT_GE(elapsed, 9 / 20.0 * 0.9);  // 10 URLs at 20/s take at least 0.45 s
  EXPECT_LE(static_cast<double>(count_field(*r, "produced")), 1 + 20 * elapsed + 1);
  EXPECT_NE(r->summary_line().find("rate 20/s"), std::string::npos) << r->summary_line();
}

// Downloads that would hang for their whole timeout (60 s) are abandoned at
// the stop: the job ends within a second, nothing counted as failed.
TEST(ThumbnailRandomUrls, AStopAbandonsDownloadsInFlight) {
  silent_origin origin;
  temp_dir out("thumb-random-silent");
  auto ex = make(executor_kind::threads);
  std::stop_source stop;
  core::collecting_observer obs(stop.get_token());
  th::random_options o = random_job(origin.base(), out);
  o.consumers = 4;
  o.limit = 5;
  scalekit::result<core::report> r = scalekit::status::internal("not run");
  const auto took = stop_after(300ms, stop, [&] { r = th::run_random_urls(o, *ex, obs); });
  EXPECT_LT(took, 500ms);  // a wake-up: not the next round of curl's 1 s poll, nor the 60 s timeout
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(bool_field(*r, "stopped"));
  EXPECT_EQ(count_field(*r, "made"), 0u);
  EXPECT_EQ(r->failures, 0u);
  EXPECT_GE(count_field(*r, "dropped"), 4u);  // at least the four in flight
  EXPECT_TRUE(obs.messages().empty()) << obs.messages().front();
  EXPECT_TRUE(files_under(out.path).empty());
}

// The URL job abandons its downloads too, and says it was cancelled.
TEST(ThumbnailUrls, AStopAbandonsDownloadsInFlight) {
  silent_origin origin;
  temp_dir out("thumb-urls-silent");
  auto ex = make(executor_kind::threads);
  std::stop_source stop;
  core::collecting_observer obs(stop.get_token());
  scalekit::result<core::report> r = scalekit::status::internal("not run");
  const auto took = stop_after(300ms, stop, [&] {
    r = th::run_urls(urls_job({origin.base() + "/a/1.jpg", origin.base() + "/a/2.jpg"}, out), *ex, obs);
  });
  EXPECT_LT(took, 500ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled) << r.error().to_string();
  EXPECT_TRUE(obs.messages().empty()) << obs.messages().front();
}

// A stop cancels the executor under the files job: a decoder that hangs (a
// test hook in the task) is ended, and the job says it was cancelled.
TEST(ThumbnailFiles, AStopCancelsTheImagesUnderWay) {
  temp_dir in("thumb-files-stop-in"), out("thumb-files-stop-out");
  for (int i = 0; i < 6; ++i) write_file(in.path / ("p" + std::to_string(i) + ".png"), image(64, 64, true));
  ::setenv("SCALEKIT_THUMBNAIL_FAULT", "hang:p1.png", 1);  // inherited by the worker processes
  auto ex = make(executor_kind::processes);
  std::stop_source stop;
  core::collecting_observer obs(stop.get_token());
  scalekit::result<core::report> r = scalekit::status::internal("not run");
  const auto took = stop_after(500ms, stop, [&] { r = th::run_files(files_job({in.path.string()}, out), *ex, obs); });
  ::unsetenv("SCALEKIT_THUMBNAIL_FAULT");
  EXPECT_LT(took, 1500ms);  // a worker asked to end gets a second before it is killed
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), scalekit::status_code::cancelled) << r.error().to_string();
  EXPECT_TRUE(obs.messages().empty()) << obs.messages().front();
  for (const auto& f : files_under(out.path)) EXPECT_EQ(f.find(".tmp-"), std::string::npos) << f;  // no temporary
  EXPECT_FALSE(fs::exists(out / "p1_thumb.png"));
}

int main(int argc, char** argv) {
  th::register_tasks();
  if (auto rc = core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
