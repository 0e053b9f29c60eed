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

using scalekit::testing::serve_server;
using scalekit::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

// One connection to the server, read as raw bytes (20 s at most per read).
class raw_client {
 public:
  explicit raw_client(const std::string& port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    timeval tv{20, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~raw_client() { close(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  void send(const std::string& bytes) const { (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  void request(const std::string& method, const std::string& target, const std::string& version = "HTTP/1.1") const {
    send(method + " " + target + " " + version + "\r\nHost: 127.0.0.1\r\n\r\n");
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Read until what was received (since the last take) holds `text`: false at the end of the stream or a timeout.
  bool read_until(const std::string& text) {
    while (in_.find(text) == std::string::npos)
      if (!read_some()) return false;
    return true;
  }
  // Read until the peer closes (or a timeout: false).
  bool read_to_end() {
    while (read_some()) {
    }
    return eof_;
  }
  // Read exactly n more bytes than are held: false when the stream ends first.
  bool read_bytes(std::size_t n) {
    while (in_.size() < n)
      if (!read_some()) return false;
    return true;
  }
  // The head of the response held (through its blank line), taken out of what is held.
  std::string take_head() {
    if (!read_until("\r\n\r\n")) return {};
    const auto end = in_.find("\r\n\r\n") + 4;
    std::string head = in_.substr(0, end);
    in_.erase(0, end);
    return head;
  }
  // A chunked body, de-chunked and taken out; nullopt when its framing is bad or it is cut short.
  std::optional<std::string> take_chunked() {
    std::string body;
    for (;;) {
      if (!read_until("\r\n")) return std::nullopt;
      const auto eol = in_.find("\r\n");
      const std::size_t size = std::stoul(in_.substr(0, eol), nullptr, 16);
      if (!read_bytes(eol + 2 + size + 2)) return std::nullopt;
      if (in_.compare(eol + 2 + size, 2, "\r\n") != 0) return std::nullopt;
      body += in_.substr(eol + 2, size);
      in_.erase(0, eol + 2 + size + 2);
      if (size == 0) return body;
    }
  }
  std::string& held() { return in_; }
  [[nodiscard]] bool eof() const { return eof_; }

 private:
  bool read_some() {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = n == 0 || errno == ECONNRESET;
      return false;
    }
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string in_;
};

bool has_field(const std::string& head, const std::string& field) {
  return head.find(field + "\r\n") != std::string::npos;
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

void touch(const std::string& path) { std::ofstream(path) << "open\n"; }

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

struct stream_server : serve_server {
  explicit stream_server(const std::string& extra = "")
      : serve_server("-w 1 --pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi stream_apps:app " + extra) {}
  [[nodiscard]] int worker_pid() const {
    const auto s = status();
    for (const auto& w : s.value("workers", scalekit::testing::json::array())) return w["pid"].get<int>();
    return -1;
  }
};

#define START_SERVER(server)                               \
  ASSERT_FALSE((server).port().empty()) << (server).log(); \
  ASSERT_TRUE((server).wait_for_log("1 workers ready")) << (server).log()

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
