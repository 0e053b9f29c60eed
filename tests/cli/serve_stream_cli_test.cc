// Streamed WSGI responses of `scalekit serve` (issue 12): pieces reach the
// client as the application makes them, a slow client holds the application
// back instead of the worker's memory, a client that goes away gets the
// iterable closed, Content-Length is honoured both ways, HEAD and HTTP/1.0
// get what they should. tests/fixtures/wsgi/stream_apps.py is the application;
// the client here is a raw socket, to see the bytes as they come.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "sanitizers.h"
#include "serve_helpers.h"
#include "serve_stream_helpers.h"

using scalekit::testing::has_field;
using scalekit::testing::raw_client;
using scalekit::testing::serve_server;
using scalekit::testing::stream_server;
using scalekit::testing::temp_dir;
using scalekit::testing::touch;
using scalekit::testing::wait_for_file;
using namespace std::chrono_literals;

namespace {

// kB of a /proc/PID/status field ("VmHWM").
long proc_status_kb(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

// Under ASan, freed memory waits in a quarantine (256 MB by default) before it
// is reused, so a peak RSS would measure the quarantine: the server started
// while this lives gets a small one (the sanitizer still checks the rest).
class small_asan_quarantine {
 public:
  small_asan_quarantine() {
    if (!scalekit::testing::sanitized) return;
    const char* v = std::getenv("ASAN_OPTIONS");
    old_ = v;
    if (v != nullptr) saved_ = v;
    ::setenv("ASAN_OPTIONS", (saved_.empty() ? "" : saved_ + ":").append("quarantine_size_mb=8").c_str(), 1);
  }
  ~small_asan_quarantine() {
    if (!scalekit::testing::sanitized) return;
    if (old_ != nullptr) {
      ::setenv("ASAN_OPTIONS", saved_.c_str(), 1);
    } else {
      ::unsetenv("ASAN_OPTIONS");
    }
  }
  small_asan_quarantine(const small_asan_quarantine&) = delete;
  small_asan_quarantine& operator=(const small_asan_quarantine&) = delete;

 private:
  const char* old_ = nullptr;
  std::string saved_;
};

}  // namespace

// The client holds the first piece before the application makes the second:
// the app waits for a file that the test writes only once "first" has arrived.
TEST(CliServeStream, AGeneratorsPiecesReachTheClientOneByOne) {
  stream_server server;
  START_SERVER(server);
  temp_dir dir("serve-stream-gate");
  for (const std::string path : {"/gated", "/writer"}) {
    const std::string gate = dir / (path.substr(1) + "-gate");
    raw_client c(server.port());
    ASSERT_TRUE(c.connected());
    c.request("GET", path + "?gate=" + gate);
    const std::string head = c.take_head();
    EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK") << head;
    EXPECT_TRUE(has_field(head, "Transfer-Encoding: chunked")) << head;
    ASSERT_TRUE(c.read_until("first\n")) << path << ": the first piece waited for the rest\n" << server.log();
    EXPECT_EQ(c.held().find("second"), std::string::npos);
    touch(gate);
    const auto body = c.take_chunked();
    ASSERT_TRUE(body.has_value()) << path;
    EXPECT_EQ(*body, "first\nsecond\n") << path;
  }
}

// A list result keeps the whole-response path: one Content-Length, no chunks.
TEST(CliServeStream, AListResultGoesOutWholeWithItsLength) {
  stream_server server;
  START_SERVER(server);
  raw_client c(server.port());
  c.request("GET", "/list");
  const std::string head = c.take_head();
  EXPECT_TRUE(has_field(head, "Content-Length: 13")) << head;
  EXPECT_FALSE(has_field(head, "Transfer-Encoding: chunked")) << head;
  ASSERT_TRUE(c.read_bytes(13));
  EXPECT_EQ(c.held(), "a whole body\n");
}

// 256 MiB to a client that reads slowly: the application thread waits for
// room instead of the worker holding the body (VmHWM: the worker's peak).
TEST(CliServeStream, ASlowReaderOfABigBodyKeepsTheWorkersMemoryBounded) {
  const small_asan_quarantine quarantine;
  stream_server server;
  START_SERVER(server);
  const int pid = server.worker_pid();
  ASSERT_GT(pid, 0);
  const long before = proc_status_kb(pid, "VmHWM");
  raw_client c(server.port(), 64 << 10);
  c.request("GET", "/big?mb=256");
  const std::string head = c.take_head();
  ASSERT_TRUE(has_field(head, "Content-Length: 268435456")) << head << server.log();
  std::size_t got = c.held().size();
  c.held().clear();
  std::size_t next_pause = 0;
  while (got < (std::size_t{256} << 20)) {
    if (!c.read_bytes(1)) break;
    got += c.held().size();
    c.held().clear();
    if (got >= next_pause) {  // a slow reader: the application makes its megabytes far faster
      std::this_thread::sleep_for(1ms);
      next_pause = got + (256 << 10);
    }
  }
  EXPECT_EQ(got, std::size_t{256} << 20);
  const long after = proc_status_kb(pid, "VmHWM");
  std::cerr << "worker VmHWM: " << before << " kB before, " << after << " kB after 256 MiB streamed\n";
  // Whole in memory it would be 256 MiB more at least; streamed, a few pipes' worth.
  EXPECT_LT(after - before, 64 * 1024) << "VmHWM " << before << " -> " << after << " kB";
}

// wsgi.file_wrapper: a 128 MiB file goes out whole and exact, with its
// length, and without passing through the worker's memory (sendfile).
TEST(CliServeStream, AFileWrapperIsSentWholeWithoutBufferingIt) {
  const small_asan_quarantine quarantine;
  stream_server server;
  START_SERVER(server);
  temp_dir dir("serve-stream-file");
  const std::string file = dir / "big.bin";
  std::string block(1 << 20, '\0');
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 128; ++i) {
      for (std::size_t j = 0; j < block.size(); ++j) block[j] = static_cast<char>((i * 31 + j) % 251);
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }
  const int pid = server.worker_pid();
  ASSERT_GT(pid, 0);
  const long before = proc_status_kb(pid, "VmHWM");
  raw_client c(server.port(), 64 << 10);
  c.request("GET", "/file?path=" + file);
  const std::string head = c.take_head();
  ASSERT_TRUE(has_field(head, "Content-Length: 134217728")) << head << server.log();
  bool same = true;
  std::size_t got = 0;
  while (got < (std::size_t{128} << 20) && c.read_bytes(1)) {
    for (const char ch : c.held()) {
      const std::size_t i = got / (1 << 20), j = got % (1 << 20);
      same = same && ch == static_cast<char>((i * 31 + j) % 251);
      ++got;
    }
    c.held().clear();
  }
  EXPECT_EQ(got, std::size_t{128} << 20);
  EXPECT_TRUE(same) << "the body differs from the file";
  const long after = proc_status_kb(pid, "VmHWM");
  std::cerr << "worker VmHWM: " << before << " kB before, " << after << " kB after a 128 MiB file\n";
  EXPECT_LT(after - before, 32 * 1024) << "VmHWM " << before << " -> " << after << " kB";
  c.request("GET", "/list");  // the connection goes on
  EXPECT_EQ(c.take_head().substr(0, 15), "HTTP/1.1 200 OK");
}

// The client goes away in the middle: close() is called on the iterable (it
// writes a marker file), and the worker goes on serving.
TEST(CliServeStream, AClientLeavingMidStreamGetsTheIterableClosed) {
  stream_server server;
  START_SERVER(server);
  temp_dir dir("serve-stream-close");
  const std::string marker = dir / "closed";
  {
    raw_client c(server.port());
    c.request("GET", "/endless?marker=" + marker);
    ASSERT_TRUE(c.read_bytes(1 << 20)) << server.log();  // it streams
  }                                                      // gone
  ASSERT_TRUE(wait_for_file(marker)) << "close() was not called\n" << server.log();
  EXPECT_EQ(server.get("/three"), "200\none\ntwo\nthree\n");
}

// HEAD of a streamed app: the head alone, the iterable closed, the connection
// still good for the next request.
TEST(CliServeStream, HeadOfAStreamedAppSendsTheHeadAlone) {
  stream_server server;
  START_SERVER(server);
  temp_dir dir("serve-stream-head");
  const std::string marker = dir / "closed";
  raw_client c(server.port());
  c.request("HEAD", "/endless?marker=" + marker);
  const std::string head = c.take_head();
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK") << head;
  EXPECT_TRUE(has_field(head, "Transfer-Encoding: chunked")) << head;
  ASSERT_TRUE(wait_for_file(marker)) << "close() was not called\n" << server.log();
  c.request("GET", "/three");  // the same connection: nothing of the HEAD's body came in between
  const std::string next = c.take_head();
  EXPECT_EQ(next.substr(0, 15), "HTTP/1.1 200 OK") << next << "\n" << c.held();
  const auto body = c.take_chunked();
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, "one\ntwo\nthree\n");
}

// An HTTP/1.0 client knows no chunks: the body ends with the connection.
TEST(CliServeStream, AnHttp10ClientGetsTheBodyEndedByTheClose) {
  stream_server server;
  START_SERVER(server);
  raw_client c(server.port());
  c.request("GET", "/three", "HTTP/1.0");
  const std::string head = c.take_head();
  EXPECT_FALSE(has_field(head, "Transfer-Encoding: chunked")) << head;
  EXPECT_TRUE(has_field(head, "Connection: close")) << head;
  EXPECT_TRUE(c.read_to_end());
  EXPECT_EQ(c.held(), "one\ntwo\nthree\n");
}

// Content-Length honoured: a longer body is cut at it (and the connection
// stays good); a shorter one is logged and the connection closed, so the client
// cannot take a part for the whole.
TEST(CliServeStream, ContentLengthIsHonouredBothWays) {
  stream_server server;
  START_SERVER(server);
  {
    raw_client c(server.port());
    c.request("GET", "/longer");
    const std::string head = c.take_head();
    EXPECT_TRUE(has_field(head, "Content-Length: 5")) << head;
    ASSERT_TRUE(c.read_bytes(5));
    EXPECT_EQ(c.held(), "hello");
    c.held().clear();
    c.request("GET", "/list");
    EXPECT_EQ(c.take_head().substr(0, 15), "HTTP/1.1 200 OK") << c.held();
    ASSERT_TRUE(c.read_bytes(13));
    EXPECT_EQ(c.held(), "a whole body\n");
  }
  EXPECT_TRUE(server.wait_for_log("longer than its Content-Length", 5s)) << server.log();
  {
    raw_client c(server.port());
    c.request("GET", "/shorter");
    const std::string head = c.take_head();
    EXPECT_TRUE(has_field(head, "Content-Length: 100")) << head;
    EXPECT_TRUE(c.read_to_end()) << "the connection was not closed";
    EXPECT_EQ(c.held(), "only ten..");
  }
  EXPECT_TRUE(server.wait_for_log("shorter than its Content-Length", 5s)) << server.log();
}

// --timeout after the head went out: no 504 is possible any more, so the
// connection is cut (no last chunk) and the log says why.
TEST(CliServeStream, ATimeoutAfterTheFirstByteCutsTheConnection) {
  temp_dir dir("serve-stream-timeout");  // first: it outlives the server, so the app sees the file below
  stream_server server("--timeout 1");
  START_SERVER(server);
  raw_client c(server.port());
  c.request("GET", "/gated?gate=" + (dir / "late"));
  const std::string head = c.take_head();
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK") << head;
  EXPECT_TRUE(c.read_to_end()) << "the connection was not closed";
  EXPECT_NE(c.held().find("first\n"), std::string::npos) << c.held();
  EXPECT_EQ(c.held().find("0\r\n\r\n"), std::string::npos) << "a cut body must not end as a whole one";
  EXPECT_TRUE(server.wait_for_log("after its head was sent", 5s)) << server.log();
  touch(dir / "late");  // the app may finish now (its next piece finds the client gone)
}
