// serve's pages: tile addressing, Server-Sent Events framing, and the
// dashboard's rates from the scoreboard's counters.

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/web/assets.h"
#include "scalekit/serve/web/fleet.h"
#include "scalekit/serve/web/sse.h"
#include "scalekit/serve/web/tile.h"

namespace web = scalekit::serve::web;
using scalekit::serve::latency_buckets;

TEST(TileWindow, ZoomZeroIsTheWorldSquare) {
  auto w = web::tile_window(0, 0, 0);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->x0, -2.5);
  EXPECT_EQ(w->x1, 1.0);
  EXPECT_EQ(w->y0, -1.75);
  EXPECT_EQ(w->y1, 1.75);
}

TEST(TileWindow, NeighboursShareTheirEdgesExactly) {
  for (int z : {1, 5, 17, web::max_tile_zoom}) {
    const std::int64_t last = (std::int64_t{1} << z) - 1;
    for (std::int64_t x : {std::int64_t{0}, last / 3, last - 1}) {
      auto a = web::tile_window(z, x, x), b = web::tile_window(z, x + 1, x + 1);
      ASSERT_TRUE(a.ok() && b.ok()) << z;
      EXPECT_EQ(a->x1, b->x0) << "z " << z << " x " << x;
      EXPECT_EQ(a->y1, b->y0) << "z " << z << " y " << x;
      EXPECT_LT(a->x0, a->x1);
    }
  }
}

TEST(TileWindow, AChildIsAQuarterOfItsParent) {
  auto parent = web::tile_window(3, 5, 2), child = web::tile_window(4, 11, 5);
  ASSERT_TRUE(parent.ok() && child.ok());
  EXPECT_EQ(child->x1, parent->x1);
  EXPECT_EQ(child->y1, parent->y1);
  EXPECT_EQ(child->x1 - child->x0, (parent->x1 - parent->x0) / 2);
}

TEST(TileWindow, RefusesTilesOffTheMapAndZoomsTooDeep) {
  EXPECT_FALSE(web::tile_window(-1, 0, 0).ok());
  EXPECT_FALSE(web::tile_window(web::max_tile_zoom + 1, 0, 0).ok());
  EXPECT_FALSE(web::tile_window(2, 4, 0).ok());
  EXPECT_FALSE(web::tile_window(2, 0, -1).ok());
  EXPECT_TRUE(web::tile_window(2, 3, 3).ok());
  EXPECT_EQ(web::tile_window(2, 4, 0).error().code(), scalekit::status_code::invalid_argument);
}

TEST(Sse, AMessageIsItsTypeAndOneDataLinePerLine) {
  EXPECT_EQ(web::sse_message("fleet", R"({"a": 1})"), "event: fleet\ndata: {\"a\": 1}\n\n");
  EXPECT_EQ(web::sse_message("x", "one\ntwo"), "event: x\ndata: one\ndata: two\n\n");
  EXPECT_EQ(web::sse_message("x", ""), "event: x\ndata: \n\n");
}

TEST(Sse, CarriageReturnsCannotEndTheMessageEarly) {
  // CR, LF and CRLF are each one line break to a browser.
  EXPECT_EQ(web::sse_message("x", "a\r\nb\rc\n"), "event: x\ndata: a\ndata: b\ndata: c\ndata: \n\n");
  EXPECT_EQ(web::sse_message("x", "\n\n"), "event: x\ndata: \ndata: \ndata: \n\n");
}

TEST(Sse, RetrySetsTheReconnectionDelay) {
  EXPECT_EQ(web::sse_retry(std::chrono::milliseconds(300)), "retry: 300\n\n");
}

TEST(LatencyQuantile, EmptyIsZero) {
  std::uint64_t b[latency_buckets]{};
  EXPECT_EQ(web::latency_quantile_ms(b, 0.5), 0);
}

TEST(LatencyQuantile, InterpolatesWithinTheBucket) {
  std::uint64_t b[latency_buckets]{};
  b[11] = 100;  // [1024, 2048) µs
  EXPECT_NEAR(web::latency_quantile_ms(b, 0.5), 1.536, 1e-9);
  EXPECT_NEAR(web::latency_quantile_ms(b, 1.0), 2.048, 1e-9);
}

TEST(LatencyQuantile, P99FindsTheSlowTail) {
  std::uint64_t b[latency_buckets]{};
  b[4] = 980;  // [8, 16) µs
  b[20] = 20;  // [0.52, 1.05) s
  EXPECT_LT(web::latency_quantile_ms(b, 0.5), 0.016);
  EXPECT_GT(web::latency_quantile_ms(b, 0.99), 524.0);
}

TEST(FleetHistory, RatesComeFromTheDifferenceOfTwoReadings) {
  web::fleet_history h(3);
  web::fleet_totals a, b;
  b.latency[10] = 50;  // 50 responses of about 1 ms
  b.shed = 4;
  b.cache_hits = 30;
  b.cache_misses = 10;
  h.add(a, b, 2.0, 1000);
  ASSERT_EQ(h.samples().size(), 1u);
  const auto& s = h.samples().back();
  EXPECT_DOUBLE_EQ(s.requests_per_s, 25);
  EXPECT_DOUBLE_EQ(s.shed_per_s, 2);
  EXPECT_EQ(s.cache_hits, 30u);
  EXPECT_EQ(s.cache_misses, 10u);
  EXPECT_GT(s.p50_ms, 0.5);
  EXPECT_LT(s.p99_ms, 1.1);
  const std::string json = web::sample_json(s);
  EXPECT_NE(json.find("\"rps\": 25.000"), std::string::npos) << json;
}

TEST(FleetHistory, KeepsTheNewestSamples) {
  web::fleet_history h(3);
  web::fleet_totals t;
  for (int i = 0; i < 5; ++i) h.add(t, t, 1.0, i);
  ASSERT_EQ(h.samples().size(), 3u);
  EXPECT_EQ(h.samples().front().unix_ms, 2);
  EXPECT_EQ(h.samples().back().unix_ms, 4);
}

TEST(FleetHistory, SamplesTheBoardAcrossItsSlots) {
  auto board = scalekit::serve::scoreboard::create(4);
  ASSERT_TRUE(board.ok());
  web::fleet_history h;
  h.sample(*board, 1'000'000'000, 1);  // the starting point only
  EXPECT_TRUE(h.samples().empty());
  board->slot(0).count_response(200, 3'000'000, 10);
  board->slot(3).count_response(503, 1'000, 10);
  board->slot(3).shed.fetch_add(1);
  board->slot(0).cache_hits.fetch_add(5);    // from the worker's LRU
  board->slot(0).cache_misses.fetch_add(4);  // of which 3 from Redis (--cache): hits all the same
  board->slot(0).shared_hits.fetch_add(3);
  h.sample(*board, 1'500'000'000, 2);
  ASSERT_EQ(h.samples().size(), 1u);
  EXPECT_EQ(h.samples().back().cache_hits, 8u);
  EXPECT_EQ(h.samples().back().cache_misses, 1u);
  EXPECT_DOUBLE_EQ(h.samples().back().requests_per_s, 4);  // 2 in half a second
  EXPECT_DOUBLE_EQ(h.samples().back().shed_per_s, 2);
  EXPECT_DOUBLE_EQ(h.samples().back().errors_per_s, 2);
}

TEST(FleetJson, ListsTheLiveWorkersAndTheMaster) {
  auto board = scalekit::serve::scoreboard::create(4);
  ASSERT_TRUE(board.ok());
  auto& s = board->slot(2);
  s.pid.store(4242);
  s.state.store(static_cast<std::uint32_t>(scalekit::serve::worker_state::ready));
  s.in_flight.store(1);
  board->header().restarts[static_cast<int>(scalekit::serve::restart_cause::crash)].store(3);
  const std::string j = web::fleet_json(*board, scalekit::serve::monotonic_ns(), 99);
  EXPECT_NE(j.find("\"served_by\": 99"), std::string::npos) << j;
  EXPECT_NE(j.find("\"crash\": 3"), std::string::npos) << j;
  EXPECT_NE(j.find("\"slot\": 2, \"pid\": 4242, \"state\": \"ready\", \"activity\": \"busy\""), std::string::npos) << j;
  EXPECT_EQ(j.find("\"slot\": 0"), std::string::npos) << j;  // empty slots are not workers
}

TEST(Assets, ThePagesAreEmbeddedWithTheirTypes) {
  const auto* home = web::find_asset("/");
  ASSERT_NE(home, nullptr);
  EXPECT_EQ(home->content_type, "text/html; charset=utf-8");
  EXPECT_NE(home->body.find("/web/explorer.js"), std::string_view::npos);
  const auto* fleet = web::find_asset("/fleet");
  ASSERT_NE(fleet, nullptr);
  EXPECT_NE(fleet->body.find("/web/fleet.js"), std::string_view::npos);
  EXPECT_EQ(web::find_asset("/web/explorer.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(web::find_asset("/nothing"), nullptr);
  for (const auto& a : web::assets()) {
    EXPECT_EQ(a.etag.size(), 18u) << a.path;
    EXPECT_FALSE(a.body.empty()) << a.path;
  }
}
