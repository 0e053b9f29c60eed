// Streamed WSGI responses of `scalekit serve` (issue 12), their end: the
// body bytes counted as they go out (/metrics), a client that goes away
// noticed while the application is still making its next piece, and the
// iterable's close() called exactly once on every path. The application is
// tests/fixtures/wsgi/stream_apps.py; its Closing iterable adds a line to a
// marker file at each close().

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "serve_helpers.h"
#include "serve_stream_helpers.h"

using scalekit::testing::has_field;
using scalekit::testing::json;
using scalekit::testing::raw_client;
using scalekit::testing::running;
using scalekit::testing::stream_server;
using scalekit::testing::temp_dir;
using scalekit::testing::touch;
using scalekit::testing::wait_for_file;
using namespace std::chrono_literals;

namespace {

// Readings of the one worker's /metrics. Its own bodies count in
// scalekit_serve_response_bytes_total too: bytes() leaves out those read here.
class metrics_reader {
 public:
  explicit metrics_reader(std::string port) : port_(std::move(port)) {}

  // The worker's value of `name`, or -1 when /metrics did not answer or lacks it.
  std::int64_t value(const std::string& name) {
    raw_client c(port_);
    c.request("GET", "/metrics");
    const std::string head = c.take_head();
    const auto at = head.find("Content-Length: ");
    if (at == std::string::npos) return -1;
    const std::size_t length = std::stoul(head.substr(at + 16));
    if (!c.read_bytes(length)) return -1;
    const std::string body = c.held().substr(0, length);
    std::int64_t v = -1;
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(name + "{", 0) == 0) v = std::stoll(line.substr(line.find("} ") + 2));
    own_ += length;
    return v;
  }
  // Body bytes written by the worker, but for the /metrics bodies read before this reading.
  std::int64_t bytes() {
    const std::uint64_t before = own_;
    const std::int64_t v = value("scalekit_serve_response_bytes_total");
    return v < 0 ? v : v - static_cast<std::int64_t>(before);
  }
  // Requests in flight, but for the /metrics request itself.
  std::int64_t in_flight() { return value("scalekit_serve_in_flight") - 1; }
  // Poll until `read()` gives `want` (true), or 5 s pass.
  template <typename Read>
  bool wait_for(Read read, std::int64_t want, std::int64_t& last) {
    const auto end = std::chrono::steady_clock::now() + 5s;
    while ((last = read()) != want && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
    return last == want;
  }

 private:
  std::string port_;
  std::uint64_t own_ = 0;
};

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Wait until `marker` shows a close() and the request has left the worker
// (its application thread is done), then: the marker's lines.
std::string closes_after_the_request(const stream_server& server, const std::string& marker, const std::string& path) {
  if (!wait_for_file(marker, 5s)) return "(close() was not called within 5 s)";
  (void)server.wait_until([&](const json& s) { return !running(s, path); });
  return file_text(marker);
}

}  // namespace

// A streamed body's bytes count when they go out: a chunked generator body
// (14 bytes; the chunk framing is not counted) and a 2 MiB one with its
// Content-Length, besides a whole one (13 bytes).
TEST(CliServeStreamEnd, StreamedBodyBytesAreCountedInMetrics) {
  stream_server server;
  START_SERVER(server);
  metrics_reader metrics(server.port());
  const std::int64_t before = metrics.bytes();
  ASSERT_GE(before, 0) << server.log();
  raw_client c(server.port());
  c.request("GET", "/three");
  ASSERT_TRUE(has_field(c.take_head(), "Transfer-Encoding: chunked"));
  EXPECT_EQ(c.take_chunked().value_or("(cut)"), "one\ntwo\nthree\n");
  c.request("GET", "/big?mb=2");
  ASSERT_TRUE(has_field(c.take_head(), "Content-Length: 2097152"));
  ASSERT_TRUE(c.read_bytes(2 << 20));
  c.held().erase(0, 2 << 20);
  c.request("GET", "/list");
  ASSERT_TRUE(has_field(c.take_head(), "Content-Length: 13"));
  ASSERT_TRUE(c.read_bytes(13));
  std::int64_t last = 0;
  EXPECT_TRUE(metrics.wait_for([&] { return metrics.bytes() - before; }, 14 + (2 << 20) + 13, last))
      << "counted " << last << " bytes\n"
      << server.log();
}

// A generator that waits between pieces, a client that goes away after the
// first: the worker notices while the app waits (the request leaves the
// in-flight count with no further write), and the app's next piece finds the
// client gone: it stops iterating and close() runs once. A generator blocked
// inside next() cannot be interrupted; it learns at its next piece.
TEST(CliServeStreamEnd, AClientGoneWhileTheAppWaitsIsNoticedAndTheIterableClosed) {
  temp_dir dir("serve-stream-gone");
  stream_server server;
  START_SERVER(server);
  const int pid = server.worker_pid();
  metrics_reader metrics(server.port());
  const std::string gate = dir / "gate", marker = dir / "closed";
  std::int64_t last = 0;
  {
    raw_client c(server.port());
    c.request("GET", "/ticks?gate=" + gate + "&marker=" + marker);
    ASSERT_TRUE(c.read_until("first\n")) << server.log();
    EXPECT_TRUE(metrics.wait_for([&] { return metrics.in_flight(); }, 1, last)) << "in flight: " << last;
  }  // gone, while the app waits for the gate
  EXPECT_TRUE(metrics.wait_for([&] { return metrics.in_flight(); }, 0, last))
      << "the worker did not notice the client going away: " << last << " in flight\n"
      << server.log();
  touch(gate);  // the app makes its next piece
  EXPECT_EQ(closes_after_the_request(server, marker, "/ticks"), "closed\n") << server.log();
  EXPECT_EQ(server.get("/three"), "200\none\ntwo\nthree\n");
  EXPECT_EQ(server.worker_pid(), pid) << "the worker was replaced\n" << server.log();
  EXPECT_EQ(server.log().find("response body failed"), std::string::npos) << server.log();
}

// An app that yields empty pieces while it waits (sending nothing) learns at
// each of them that the client went away: close() within moments, not at its end.
TEST(CliServeStreamEnd, EmptyPiecesLetTheAppLearnTheClientIsGone) {
  temp_dir dir("serve-stream-idle");
  stream_server server;
  START_SERVER(server);
  const std::string marker = dir / "closed";
  {
    raw_client c(server.port());
    c.request("GET", "/idle?marker=" + marker);
    ASSERT_TRUE(c.read_until("first\n")) << server.log();
  }  // gone
  EXPECT_EQ(closes_after_the_request(server, marker, "/idle"), "closed\n") << server.log();
}

// Requests that come while a body streams (the socket is watched meanwhile)
// are kept and answered after it, also when the client then closes its
// sending side: that is not a client gone.
TEST(CliServeStreamEnd, RequestsPipelinedBehindAStreamAreAnswered) {
  temp_dir dir("serve-stream-pipelined");
  stream_server server;
  START_SERVER(server);
  for (const bool half_close : {false, true}) {
    const std::string gate = dir / (half_close ? "gate-half-closed" : "gate");
    raw_client c(server.port());
    c.request("GET", "/gated?gate=" + gate);
    ASSERT_TRUE(has_field(c.take_head(), "Transfer-Encoding: chunked"));
    ASSERT_TRUE(c.read_until("first\n")) << server.log();
    c.request("GET", "/list");
    c.request("GET", "/three");
    if (half_close) c.shut_write();
    std::this_thread::sleep_for(50ms);  // not needed to pass: gives the watch a chance to take the requests first
    touch(gate);
    EXPECT_EQ(c.take_chunked().value_or("(cut)"), "first\nsecond\n") << server.log();
    EXPECT_TRUE(has_field(c.take_head(), "Content-Length: 13")) << c.held();
    ASSERT_TRUE(c.read_bytes(13));
    EXPECT_EQ(c.held().substr(0, 13), "a whole body\n");
    c.held().erase(0, 13);
    EXPECT_TRUE(has_field(c.take_head(), "Transfer-Encoding: chunked")) << c.held();
    EXPECT_EQ(c.take_chunked().value_or("(cut)"), "one\ntwo\nthree\n") << "half close: " << half_close;
  }
}

// A client that sends its request and closes its sending side at once (as
// `printf ... | nc -N` does) still reads the whole streamed answer: the end
// of its stream came before the answer, so it is not a client gone. (A read
// takes the request without the end after it; the end is looked for before
// the body streams.)
TEST(CliServeStreamEnd, AClientThatHalfClosedWithItsRequestReadsTheStream) {
  temp_dir dir("serve-stream-half-closed");
  stream_server server;
  START_SERVER(server);
  const std::string gate = dir / "gate";
  raw_client c(server.port());
  c.request("GET", "/gated?gate=" + gate);
  c.shut_write();
  ASSERT_TRUE(has_field(c.take_head(), "Transfer-Encoding: chunked")) << server.log();
  ASSERT_TRUE(c.read_until("first\n")) << server.log();
  std::this_thread::sleep_for(50ms);  // not needed to pass: gives a watch the time to take the end for a client gone
  touch(gate);
  EXPECT_EQ(c.take_chunked().value_or("(cut)"), "first\nsecond\n") << server.log();
}

// close() exactly once, whatever ends the response.
TEST(CliServeStreamEnd, CloseIsCalledOnceOnEveryPath) {
  temp_dir dir("serve-stream-once");
  stream_server server;
  START_SERVER(server);
  const auto marker = [&](const std::string& name) { return dir / name; };
  {  // an exception mid-stream: the head and first piece are out, the connection is cut
    raw_client c(server.port());
    c.request("GET", "/raises?marker=" + marker("raises"));
    EXPECT_EQ(c.take_head().substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_TRUE(c.read_to_end()) << "the connection was not cut";
    EXPECT_NE(c.held().find("first\n"), std::string::npos) << c.held();
    EXPECT_EQ(c.held().find("0\r\n\r\n"), std::string::npos) << "a cut body must not end as a whole one";
    EXPECT_EQ(closes_after_the_request(server, marker("raises"), "/raises"), "closed\n") << server.log();
  }
  {  // start_response called again (no exc_info) while iterating: a 500, nothing of the body sent
    raw_client c(server.port());
    c.request("GET", "/twice?marker=" + marker("twice"));
    EXPECT_EQ(c.take_head().substr(0, 12), "HTTP/1.1 500") << server.log();
    EXPECT_EQ(closes_after_the_request(server, marker("twice"), "/twice"), "closed\n") << server.log();
  }
  {  // 304 and HEAD: no body is sent, the connection goes on
    raw_client c(server.port());
    c.request("GET", "/not-modified?marker=" + marker("304"));
    EXPECT_EQ(c.take_head().substr(0, 12), "HTTP/1.1 304");
    c.request("HEAD", "/pair?marker=" + marker("head"));
    const std::string head = c.take_head();
    EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK") << c.held();
    c.request("GET", "/list");
    EXPECT_EQ(c.take_head().substr(0, 15), "HTTP/1.1 200 OK") << c.held();
    ASSERT_TRUE(c.read_bytes(13));
    EXPECT_EQ(c.held(), "a whole body\n") << "a body came after a 304 or a HEAD";
    EXPECT_EQ(closes_after_the_request(server, marker("304"), "/not-modified"), "closed\n") << server.log();
    EXPECT_EQ(closes_after_the_request(server, marker("head"), "/pair"), "closed\n") << server.log();
  }
  {  // the client gone before the first piece (the app is still waiting to make it)
    const std::string gate = dir / "late-gate";
    {
      raw_client c(server.port());
      c.request("GET", "/late?gate=" + gate + "&marker=" + marker("late"));
      ASSERT_TRUE(server.wait_until([](const json& s) { return running(s, "/late"); })) << server.log();
    }
    touch(gate);
    EXPECT_EQ(closes_after_the_request(server, marker("late"), "/late"), "closed\n") << server.log();
  }
  EXPECT_EQ(server.get("/three"), "200\none\ntwo\nthree\n");
}

// --timeout before the first piece: the client gets a 504; the app, once it
// makes its piece, finds nobody waiting, stops, and close() runs once.
TEST(CliServeStreamEnd, CloseIsCalledOnceAfterA504) {
  temp_dir dir("serve-stream-504");  // first: it outlives the server
  stream_server server("--timeout 1");
  START_SERVER(server);
  const std::string gate = dir / "gate", marker = dir / "closed";
  raw_client c(server.port());
  c.request("GET", "/late?gate=" + gate + "&marker=" + marker);
  EXPECT_EQ(c.take_head().substr(0, 12), "HTTP/1.1 504") << server.log();
  touch(gate);
  EXPECT_EQ(closes_after_the_request(server, marker, "/late"), "closed\n") << server.log();
}
