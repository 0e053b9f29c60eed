// Integration tests of `scalekit thumbnail` and `scalekit dummyimage serve`:
// the real binary on images Pillow made, checked with Pillow; URLs served by
// the real dummyimage server and the Python test server.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::server_process;
using scalekit::testing::temp_dir;

namespace {

namespace fs = std::filesystem;
const std::string images_py = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../thumb_images.py ";

std::set<std::string> pngs_under(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.insert(e.path().lexically_relative(dir).string());
  return out;
}

// "WxH r,g,b r,g,b MODE" of an image: its size and two corner colours.
std::string check(const std::string& path) {
  auto r = run_command(images_py + "check " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.find('\n'));
}

struct dummyimage_server : server_process {
  explicit dummyimage_server(const std::string& args = "")
      : server_process(bin, "dummyimage serve " + args, "cli-dummyimage") {}
  std::string base() const { return "http://127.0.0.1:" + port(); }
};

}  // namespace

// The seed's disk thumbnailer: every image by content, subdirectories
// mirrored, upright, sRGB, first frames; bad files named and counted.
TEST(CliThumbnail, DirectoryOnBothExecutors) {
  temp_dir d("cli-thumb");
  ASSERT_EQ(run_command(images_py + "make " + d.path.string()).exit_code, 0);
  const std::set<std::string> expected = {"anim.webp_thumb.png", "anim_thumb.png",         "cmyk_thumb.png",
                                          "noext_thumb.png",     "photo_thumb.png",        "small_thumb.png",
                                          "tagged_thumb.png",    "tall_thumb.png",         "sub/a.png_thumb.png",
                                          "sub/a_thumb.png",     "sub/dir/deep_thumb.png", "orient/o1_thumb.png",
                                          "orient/o2_thumb.png", "orient/o3_thumb.png",    "orient/o4_thumb.png",
                                          "orient/o5_thumb.png", "orient/o6_thumb.png",    "orient/o7_thumb.png",
                                          "orient/o8_thumb.png"};
  for (const char* ex : {"threads", "processes"}) {
    temp_dir out("cli-thumb-out");
    auto r = run_command(bin + " --json thumbnail " + d.path.string() + " -o " + out.path.string() +
                         " -j 2 --executor " + ex);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // two files fail
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["made"], 19) << ex;
    EXPECT_EQ(j["skipped"], 2);
    EXPECT_EQ(j["failed"], 2);
    EXPECT_EQ(pngs_under(out.path), expected) << ex;
    EXPECT_NE(r.err.find("notes.txt: skipped, not an image"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("fake.jpg: skipped, not an image"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("truncated.jpg: truncated: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bomb.png: too large: 100000x100000 = 10000000000 pixels"), std::string::npos) << r.err;

    EXPECT_EQ(check(out / "photo_thumb.png").substr(0, 5), "64x48");  // 400x300 into 64x64
    EXPECT_EQ(check(out / "tall_thumb.png").substr(0, 5), "16x64");
    EXPECT_EQ(check(out / "small_thumb.png").substr(0, 6), "30x20 ");  // never enlarged
    // Every EXIF orientation comes out upright: red top-left, blue bottom-right.
    for (int n = 1; n <= 8; ++n)
      EXPECT_EQ(check(out / ("orient/o" + std::to_string(n) + "_thumb.png")), "64x32 254,0,0 0,0,254 RGB") << n;
    EXPECT_EQ(check(out / "anim_thumb.png"), "50x50 255,0,0 255,0,0 RGB");  // the first frame
    EXPECT_EQ(check(out / "anim.webp_thumb.png"), "50x50 255,0,0 255,0,0 RGB");
    EXPECT_EQ(check(out / "tagged_thumb.png"), "64x32 200,40,40 200,40,40 RGB");  // profile applied, colour kept
    // CMYK (0, 255, 255, 0) is red in sRGB.
    const std::string cmyk = check(out / "cmyk_thumb.png");
    int red = 0, green = 0, blue = 0;
    ASSERT_EQ(std::sscanf(cmyk.c_str(), "60x60 %d,%d,%d", &red, &green, &blue), 3) << cmyk;
    EXPECT_GT(red, 200);
    EXPECT_LT(green, 80);
    EXPECT_LT(blue, 80);
  }
}

// --executor processes isolates decoders: one that crashes or hangs costs
// its item, the rest are made. (The fault is injected by a test hook.)
// The timeout is 3 s, not 1: with 1 s the test failed once beside builds, where
// a healthy image's task, its worker's start included, can take that long.
TEST(CliThumbnail, ACrashingOrHangingDecoderCostsOneItem) {
  temp_dir d("cli-thumb-fault");
  ASSERT_EQ(run_command(images_py + "make " + d.path.string()).exit_code, 0);
  for (const char* fault : {"crash:photo.jpg", "hang:photo.jpg"}) {
    temp_dir out("cli-thumb-fault-out");
    auto r = run_command(std::string("SCALEKIT_THUMBNAIL_FAULT=") + fault + " " + bin + " --json thumbnail " +
                         d.path.string() + " -o " + out.path.string() + " --executor processes -j 2 --task-timeout 3");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["made"], 18) << fault;
    EXPECT_EQ(j["failed"], 3) << fault;
    EXPECT_FALSE(fs::exists(out / "photo_thumb.png"));
    EXPECT_NE(r.err.find("photo.jpg: the decoder failed: "), std::string::npos) << r.err;
  }
}

// One image file needs no worker process (each loads libvips again before
// it starts): by default it is made in this process; --task-timeout given
// keeps the worker that enforces it, and contains a decoder that crashes.
TEST(CliThumbnail, OneImageFileRunsWithoutWorkersUnlessATimeoutIsAsked) {
  temp_dir d("cli-thumb-one");
  ASSERT_EQ(run_command(images_py + "make " + d.path.string()).exit_code, 0);
  temp_dir out("cli-thumb-one-out");
  auto r = run_command(bin + " --json thumbnail " + d / "photo.jpg" + " -o " + out.path.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["made"], 1);
  EXPECT_EQ(j["executor"], "serial");
  EXPECT_TRUE(fs::exists(out / "photo_thumb.png"));
  r = run_command(std::string("SCALEKIT_THUMBNAIL_FAULT=crash:photo.jpg ") + bin + " --json thumbnail " +
                  d / "photo.jpg" + " -o " + (out / "guarded") + " --task-timeout 5");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["executor"], "processes");
  EXPECT_EQ(j["failed"], 1);
  EXPECT_NE(r.err.find("photo.jpg: the decoder failed: "), std::string::npos) << r.err;
  r = run_command(bin + " --json thumbnail " + (d / "sub") + " -o " + (out / "dir"));  // a directory keeps the pool
  ASSERT_FALSE(r.out.empty()) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["executor"], "processes");
}

TEST(CliThumbnail, UrlsFromTheDummyimageServer) {
  dummyimage_server images;
  ASSERT_FALSE(images.port().empty()) << images.log();
  scalekit::testing::test_http_server http;
  ASSERT_FALSE(http.port().empty()) << http.log();
  temp_dir out("cli-thumb-urls");
  const std::string ok1 = images.base() + "/320x240/fff/a00.jpg", ok2 = images.base() + "/600x720/0f0/123.png";
  const std::string html = "http://127.0.0.1:" + http.port() + "/html";
  const std::string missing = "http://127.0.0.1:" + http.port() + "/status/404";
  const std::string bad_size = images.base() + "/99999x1/fff/000.jpg";
  const std::string hang = "http://127.0.0.1:" + http.port() + "/hang";
  auto r = run_command(bin + " --json thumbnail " + ok1 + " " + ok2 + " " + html + " " + missing + " " + bad_size +
                       " " + hang + " http://127.0.0.1:1/x/y.jpg -o " + out.path.string() + " --timeout 1");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["made"], 2);
  EXPECT_EQ(j["skipped"], 1);  // the HTML page
  EXPECT_EQ(j["failed"], 4);
  EXPECT_EQ(pngs_under(out.path), (std::set<std::string>{"fff_a00_thumb.png", "0f0_123_thumb.png"}));
  EXPECT_NE(r.err.find(hang + ": timed out after 1"), std::string::npos) << r.err;
  EXPECT_EQ(check(out / "fff_a00_thumb.png").substr(0, 5), "64x48");
  EXPECT_EQ(check(out / "0f0_123_thumb.png").substr(0, 6), "53x64 ");
  EXPECT_NE(r.err.find(html + ": skipped, not an image"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(missing + ": HTTP 404"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad_size + ": HTTP 400"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("http://127.0.0.1:1/x/y.jpg: cannot connect"), std::string::npos) << r.err;
}

// The seed's producer/consumer with either saver: exactly N distinct files,
// even when every third download fails (a failure gives its slot back).
TEST(CliThumbnail, RandomUrlsMakeExactlyTheLimit) {
  dummyimage_server images("--fail-every 3");
  ASSERT_FALSE(images.port().empty()) << images.log();
  for (const char* limiter : {"lock", "semaphore"}) {
    temp_dir out("cli-thumb-random");
    auto r = run_command(bin + " --json thumbnail --random-urls " + images.base() + " -o " + out.path.string() +
                         " --limit 25 --limiter " + limiter + " --producers 3 --consumers 8 --seed 7");
    EXPECT_EQ(r.exit_code, 1) << r.err;  // the 503s are failures
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["made"], 25) << limiter;
    EXPECT_GT(j["failed"].get<int>(), 0);
    EXPECT_EQ(pngs_under(out.path).size(), 25u) << limiter;
    EXPECT_NE(r.err.find(": HTTP 503"), std::string::npos);
  }
  // Consumers keep their connections: far fewer connections than requests.
  const std::string log = images.stop();
  std::size_t requests = 0, connections = 0;
  const auto at = log.find("served ");
  ASSERT_NE(at, std::string::npos) << log;
  ASSERT_EQ(std::sscanf(log.c_str() + at, "served %zu requests on %zu connections", &requests, &connections), 2) << log;
  EXPECT_GE(requests, 50u);  // 25 made twice, and the 503s
  EXPECT_LE(connections * 3, requests) << log;
}

// --rate caps what producers make: at most one burst plus rate x time.
TEST(CliThumbnail, RateLimitsTheProducers) {
  dummyimage_server images;
  ASSERT_FALSE(images.port().empty()) << images.log();
  temp_dir out("cli-thumb-rate");
  auto r = run_command(bin + " --json thumbnail --random-urls " + images.base() + " -o " + out.path.string() +
                       " --limit 12 --rate 20/s --producers 4 --consumers 4 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["made"], 12);
  const double elapsed = j["elapsed_s"].get<double>();
  EXPECT_GE(elapsed, 11 / 20.0 * 0.9);  // 12 URLs at 20/s take at least 0.55 s
  EXPECT_LE(j["produced"].get<double>(), 1 + 20 * elapsed + 1);
}

// Without a limit the job runs until SIGINT, then ends cleanly: every
// thumbnail it counted exists, the summary is printed.
TEST(CliThumbnail, InterruptEndsCleanly) {
  dummyimage_server images;
  ASSERT_FALSE(images.port().empty()) << images.log();
  temp_dir out("cli-thumb-int");
  scalekit::testing::background_process job(
      bin + " thumbnail --random-urls " + images.base() + " -o " + out.path.string() + " --rate 50/s", "cli-thumb-job");
  // Until more than 10 are made (a fixed 1.5 s made only 3 in a sanitizer build beside other tests).
  (void)scalekit::testing::eventually([&] { return pngs_under(out.path).size() > 10; });
  ::kill(job.pid(), SIGINT);
  ASSERT_TRUE(job.wait_exit(std::chrono::seconds(20)));
  EXPECT_EQ(job.exit_code(), 128 + SIGINT);
  const std::string log = job.log();  // the summary on stderr
  const auto at = log.find(" thumbnails made");
  ASSERT_NE(at, std::string::npos) << log;
  const std::size_t made = std::stoul(log.substr(log.rfind(' ', at - 1) + 1));
  EXPECT_GT(made, 10u);
  EXPECT_EQ(pngs_under(out.path).size(), made);
}

TEST(CliDummyimage, StatusesAndFormats) {
  dummyimage_server images;
  ASSERT_FALSE(images.port().empty()) << images.log();
  const std::string script = R"(
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))
for method, path in (('GET', '/32x24/fff/000.png'), ('GET', '/32x24/fff/000.jpg'), ('HEAD', '/32x24/abc/def.png'),
                     ('GET', '/0x24/fff/000.png'), ('GET', '/32x24/ggg/000.png'), ('GET', '/32x24/fff/000.gif'),
                     ('GET', '/nothing'), ('POST', '/32x24/fff/000.png')):
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    print(method, path, r.status, r.getheader('Content-Type'), len(body), body[:4])
    if r.getheader('Connection') == 'close':
        c.close()
)";
  temp_dir d("cli-dummyimage");
  std::ofstream(d / "probe.py") << script;
  auto r = run_command("/usr/bin/python3 " + d / "probe.py" + " " + images.port());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // One keep-alive connection carried the requests until the 405 closed it.
  EXPECT_NE(r.out.find("GET /32x24/fff/000.png 200 image/png"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b'\\x89PNG'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GET /32x24/fff/000.jpg 200 image/jpeg"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HEAD /32x24/abc/def.png 200 image/png 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GET /0x24/fff/000.png 400"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GET /32x24/ggg/000.png 400"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GET /32x24/fff/000.gif 404"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GET /nothing 404"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("POST /32x24/fff/000.png 405"), std::string::npos) << r.out;
  // The served image is the size asked for, in the background colour.
  auto fetch = run_command(bin + " -q thumbnail " + images.base() + "/40x30/0a0/fff.png -o " + d.path.string() +
                           " --size 100x100");
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  // Inside the border, the background; the far corner is on a diagonal.
  EXPECT_EQ(check(d / "0a0_fff_thumb.png"), "40x30 0,170,0 255,255,255 RGB");
  const std::string stopped = images.stop();
  EXPECT_NE(stopped.find("served "), std::string::npos) << stopped;
}
