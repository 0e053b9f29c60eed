// Integration tests of serve's shared cache (--cache, a real Redis), its
// graceful degradation (--degrade, a forced overload) and POST /thumbnail.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "redis_server.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::redis_server;
using scalekit::testing::run_command;
using scalekit::testing::server_process;
using scalekit::testing::temp_dir;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string client = "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py ";

struct cache_server : server_process {
  explicit cache_server(const std::string& extra) : server_process(bin, "serve -w 1 " + extra, "cli-serve-cache") {}
  // "STATUS\nBODY" of a GET.
  [[nodiscard]] std::string get(const std::string& path) const {
    return run_command(client + "get " + port() + " '" + path + "'").out;
  }
  // The status, then "Name: value" per header field, of a GET.
  [[nodiscard]] std::string headers(const std::string& path) const {
    return run_command(client + "headers " + port() + " '" + path + "'").out;
  }
  [[nodiscard]] json status() const {
    const auto r = run_command(client + "status " + port());
    return json::parse(r.out.empty() ? "{}" : r.out);
  }
};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// Poll `pred` every 50 ms for up to `timeout`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  for (const auto end = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < end;) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// "WxH" of a PNG, from its IHDR.
std::string png_size(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return "not a PNG";
  const auto be32 = [&](std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(png[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(png[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(png[at + 2])} << 8) |
           std::uint32_t{static_cast<unsigned char>(png[at + 3])};
  };
  return std::to_string(be32(16)) + "x" + std::to_string(be32(20));
}

const std::string tile = "/mandelbrot.png?w=64&h=48&n=200";
const std::string tile_key = "scalekit:serve:cache:v1:" + tile;

}  // namespace

// Two servers on one Redis: what the first computed, the second's first
// request reads from Redis (then from its own LRU), byte for byte, and both
// count it on /status and /metrics.
TEST(CliServeCache, TwoServersShareOneRedis) {
  redis_server redis;
  cache_server first("--cache " + redis.url(3) + " --cache-ttl 120");
  cache_server second("--cache " + redis.url(3));
  ASSERT_TRUE(first.wait_for_log("1 worker ready")) << first.log();
  ASSERT_TRUE(second.wait_for_log("1 worker ready")) << second.log();
  const std::string computed = first.headers(tile);
  EXPECT_TRUE(has_line(computed, "X-Cache: miss")) << computed;
  ASSERT_TRUE(eventually([&] { return redis.cli("-n 3 EXISTS '" + tile_key + "'").out == "1\n"; }));
  const std::string ttl = redis.cli("-n 3 TTL '" + tile_key + "'").out;
  EXPECT_GT(std::stoi(ttl), 0) << ttl;
  EXPECT_LE(std::stoi(ttl), 120) << ttl;

  const std::string shared = second.headers(tile);
  EXPECT_TRUE(has_line(shared, "X-Cache: redis")) << shared;
  EXPECT_TRUE(has_line(shared, "200")) << shared;
  const auto at = computed.find("ETag: ");
  ASSERT_NE(at, std::string::npos) << computed;
  const std::string etag = computed.substr(at, computed.find('\n', at) - at);
  EXPECT_NE(shared.find(etag), std::string::npos) << etag << "\n" << shared;  // the same entity
  EXPECT_TRUE(has_line(second.headers(tile), "X-Cache: hit"));                // now in its own LRU
  EXPECT_EQ(second.get(tile), first.get(tile));

  const json s = second.status();
  EXPECT_EQ(s["cache"]["redis"]["hits"], 1) << s.dump();
  EXPECT_EQ(s["cache"]["redis"]["hit_rate"], 1.0) << s.dump();
  EXPECT_EQ(s["cache"]["lru"]["hits"], 2) << s.dump();  // the X-Cache: hit request and the body's
  EXPECT_EQ(s["workers"][0]["redis_cache_hits"], 1) << s.dump();
  EXPECT_EQ(first.status()["cache"]["redis"]["misses"], 1);
  const std::string metrics = second.get("/metrics");
  EXPECT_NE(metrics.find("\nscalekit_serve_redis_cache_lookups_total{worker=\"0\",result=\"hit\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\nscalekit_serve_cache_hit_ratio{level=\"redis\"} 1.0000\n"), std::string::npos) << metrics;
}

// Redis stopped under a running server: every request is still answered
// (computed), the outage is logged once; Redis back, the cache is used again.
TEST(CliServeCache, AnUnreachableRedisCostsNoRequest) {
  redis_server redis;
  cache_server server("--cache " + redis.url());
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  EXPECT_EQ(server.get("/primes?n=91"), "200\n{\"n\": 91, \"prime\": false, \"factors\": [7, 13]}\n");
  redis.stop();
  for (int n = 2; n < 12; ++n) {
    const std::string got = server.get("/primes?n=" + std::to_string(n * 1000 + 1));
    EXPECT_EQ(got.substr(0, 4), "200\n") << got;
  }
  EXPECT_EQ(count(server.log(), ": unavailable ("), 1u) << server.log();
  EXPECT_GE(server.status()["cache"]["redis"]["errors"], 10) << server.status().dump();

  redis.start();  // the same port, empty
  int n = 100;
  EXPECT_TRUE(eventually([&] {
    EXPECT_EQ(server.get("/primes?n=" + std::to_string(++n)).substr(0, 4), "200\n");
    return server.log().find("available again") != std::string::npos;
  })) << server.log();
  const std::string key = "scalekit:serve:cache:v1:/primes?n=" + std::to_string(n + 1);
  EXPECT_EQ(server.get("/primes?n=" + std::to_string(n + 1)).substr(0, 4), "200\n");
  EXPECT_TRUE(eventually([&] { return redis.cli("EXISTS '" + key + "'").out == "1\n"; })) << key;
  EXPECT_EQ(count(server.log(), ": unavailable ("), 1u) << server.log();
}

// A forced overload (one thread, a queue of one, both held by /sleep): with
// --degrade a cached tile is served as it is and an uncached one coarser, both
// marked and counted; what has neither (primes) is still refused. Without
// --degrade the cached tile is refused too.
TEST(CliServeDegrade, AnOverloadedWorkerServesCachedAndCoarseTiles) {
  for (const bool degrade : {true, false}) {
    cache_server server(std::string("--threads 1 --queue 1 --queue-wait 10") + (degrade ? " --degrade" : ""));
    ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
    ASSERT_EQ(server.get(tile).substr(0, 4), "200\n");  // now in the worker's cache
    background_process running(client + "get " + server.port() + " /sleep?ms=3000", "cli-serve-sleep");
    ASSERT_TRUE(eventually([&] {
      const json s = server.status();
      return !s["workers"].empty() && s["workers"][0]["running"].size() == 2 && s["workers"][0]["queued"] == 0;
    }));  // the sleep holds the thread (the other request running: /status itself)
    background_process queued(client + "get " + server.port() + " /sleep?ms=1", "cli-serve-queued");
    ASSERT_TRUE(eventually([&] { return server.status()["workers"][0]["queued"] == 1; }));  // the queue is full
    // The server's own state is still answered: a health check sees the worker alive.
    EXPECT_EQ(server.get("/healthz"), "200\nok\n");
    EXPECT_NE(server.get("/metrics").find("scalekit_serve_shed_total"), std::string::npos);

    const std::string cached = server.headers(tile);
    const std::string coarse = server.headers("/mandelbrot.png?w=96&h=64&n=1000");
    const std::string coarse_png = server.get("/mandelbrot.png?w=96&h=64&n=1000");
    if (degrade) {
      EXPECT_TRUE(has_line(cached, "200") && has_line(cached, "X-Degraded: cached")) << cached;
      EXPECT_TRUE(has_line(coarse, "200") && has_line(coarse, "X-Degraded: coarse")) << coarse;
      EXPECT_TRUE(has_line(coarse, "Cache-Control: no-store")) << coarse;
      EXPECT_EQ(coarse_png.substr(0, 4), "200\n");
      EXPECT_EQ(png_size(coarse_png.substr(4)), "96x64");
    } else {
      EXPECT_TRUE(has_line(cached, "503")) << cached;
      EXPECT_TRUE(has_line(coarse, "503")) << coarse;
    }
    EXPECT_EQ(server.get("/primes?n=91").substr(0, 4), "503\n");
    ASSERT_TRUE(running.wait_exit(10s));
    ASSERT_TRUE(queued.wait_exit(10s));
    EXPECT_EQ(running.out(), "200\nslept 3000 ms\n");
    const std::string metrics = server.get("/metrics");
    EXPECT_NE(metrics.find("\nscalekit_serve_degraded_total{worker=\"0\"} " + std::string(degrade ? "3" : "0") + "\n"),
              std::string::npos)
        << metrics;
    // After the overload, the full tile again.
    const std::string full = server.headers("/mandelbrot.png?w=96&h=64&n=1000");
    EXPECT_TRUE(has_line(full, "200") && full.find("X-Degraded") == std::string::npos) << full;
  }
}

// POST /thumbnail: real JPEG and PNG bodies become PNG thumbnails in the box
// asked (64x64 by default); bodies that are no image, cut short, too many
// pixels or too many bytes get a one-line reason and a 4xx; the worker goes on.
TEST(CliServeThumbnail, PostedImagesBecomePngThumbnails) {
  temp_dir images("cli-serve-thumb");
  ASSERT_EQ(
      run_command("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../thumb_images.py make " + images.path.string()).exit_code,
      0);
  {
    std::ofstream big(images / "big.bin", std::ios::binary);
    big << std::string(300'000, 'x');
  }
  cache_server server("--max-body 200000");
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  const auto post = [&](const std::string& path, const std::string& file) {
    const auto r =
        run_command(client + "post " + server.port() + " '" + path + "' " + (images / file) + " " + (images / "out"));
    std::ifstream in(images / "out", std::ios::binary);
    return std::pair{r.out + r.err, std::string(std::istreambuf_iterator<char>(in), {})};
  };
  auto [head, body] = post("/thumbnail", "photo.jpg");  // 400x300
  EXPECT_EQ(head, "200 image/png\n");
  EXPECT_EQ(png_size(body), "64x48");
  std::tie(head, body) = post("/thumbnail?w=100&h=100", "photo.jpg");
  EXPECT_EQ(png_size(body), "100x75");
  std::tie(head, body) = post("/thumbnail?h=32", "tall.png");  // 100x400, one side: a square box
  EXPECT_EQ(head, "200 image/png\n");
  EXPECT_EQ(png_size(body), "8x32");
  std::tie(head, body) = post("/thumbnail", "notes.txt");
  EXPECT_EQ(head, "400 text/plain; charset=utf-8\n");
  EXPECT_EQ(body, "the body: not an image\n");
  std::tie(head, body) = post("/thumbnail", "truncated.jpg");
  EXPECT_EQ(head.substr(0, 4), "400 ");
  EXPECT_EQ(body.rfind("the body: truncated: ", 0), 0u) << body;
  EXPECT_EQ(count(body, "\n"), 1u) << body;
  std::tie(head, body) = post("/thumbnail", "bomb.png");
  EXPECT_EQ(head.substr(0, 4), "413 ") << head;
  EXPECT_EQ(body.rfind("the body: too large: 100000x100000", 0), 0u) << body;
  std::tie(head, body) = post("/thumbnail?w=0", "photo.jpg");
  EXPECT_EQ(head.substr(0, 4), "400 ") << head;
  std::tie(head, body) = post("/thumbnail", "big.bin");
  EXPECT_EQ(head.substr(0, 4), "413 ") << head;
  EXPECT_EQ(server.get("/thumbnail").substr(0, 4), "405\n");
  std::tie(head, body) = post("/thumbnail", "photo.jpg");  // still serving
  EXPECT_EQ(png_size(body), "64x48");
  // The thumbnails were made in scalekit-heavy's processes: libvips is not in the worker.
  const int worker = server.status()["workers"][0]["pid"].get<int>();
  std::ifstream maps("/proc/" + std::to_string(worker) + "/maps");
  const std::string mapped((std::istreambuf_iterator<char>(maps)), {});
  EXPECT_NE(mapped.find("scalekit-serve"), std::string::npos);
  EXPECT_EQ(mapped.find("libvips"), std::string::npos);
}
