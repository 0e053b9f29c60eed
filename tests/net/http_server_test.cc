#include "scalekit/net/http_server.h"

// net's HTTP server (what dummyimage serves with, and `serve` will) against
// real clients: Python's http.client and curl for the conforming side, raw
// sockets for the hostile side (slow heads, slow bodies, slow readers,
// smuggling, too many connections, too many bytes). The server runs in a
// thread of the test with small timeouts, on a free port.

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "loopback.h"
#include "run_command.h"
#include "sanitizers.h"
#include "scalekit/core/async.h"

namespace net = scalekit::net;
namespace core = scalekit::core;
using scalekit::testing::run_command;
using namespace std::chrono_literals;

namespace {

// A body in pieces (an empty one among them, which is not sent); with
// `fail`, it throws instead of ending.
class pieces final : public net::http_body_source {
 public:
  explicit pieces(std::vector<std::string> p, bool fail = false) : pieces_(std::move(p)), fail_(fail) {}
  core::task<std::optional<std::string>> next() override {
    if (at_ == pieces_.size()) {
      if (fail_) throw std::runtime_error("the source broke");
      co_return std::nullopt;
    }
    co_return pieces_[at_++];
  }

 private:
  std::vector<std::string> pieces_;
  bool fail_;
  std::size_t at_ = 0;
};

// /echo: "METHOD TARGET\n" + the body; /stream: three pieces, chunked;
// /stream-length: a stream with its length; /stream-broken: a stream that
// throws; /big?n=N: N bytes; /throw: the handler throws; /bad-header: an
// invalid header field; anything else: 404.
core::task<net::http_response> handle(net::http_request req) {
  net::http_response r;
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (path == "/echo") {
    r.body = req.method + " " + req.target + "\n" + req.body;
  } else if (path == "/stream") {
    r.stream = std::make_shared<pieces>(std::vector<std::string>{"piece 0\n", "", "piece 1\n", "piece 2\n"});
  } else if (path == "/stream-length") {
    r.stream = std::make_shared<pieces>(std::vector<std::string>{"abc", "def"});
    r.content_length = 6;
  } else if (path == "/stream-broken") {
    r.stream = std::make_shared<pieces>(std::vector<std::string>{"partial"}, true);
  } else if (path == "/big") {
    r.body.assign(std::stoul(req.target.substr(req.target.find('=') + 1)), 'x');
  } else if (path == "/throw") {
    throw std::runtime_error("handler broke");
  } else if (path == "/bad-header") {
    r.headers.push_back({"X-Injected", "a\r\nSet-Cookie: x=1"});
  } else {
    r.status = 404;
    r.body = "no\n";
  }
  co_return r;
}

// serve_http with `o` (port 0) in a thread; stop() returns its stats.
class test_server {
 public:
  explicit test_server(net::http_server_options o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.stop = stop_.get_token();
    thread_ = std::thread([this, o] {
      auto r = net::serve_http(o, handle, [this](const std::string& line) {
        std::scoped_lock lock(mutex_);
        log_ += line + "\n";
        const std::string prefix = "listening on 127.0.0.1:";
        if (line.rfind(prefix, 0) == 0) port_ = static_cast<std::uint16_t>(std::stoul(line.substr(prefix.size())));
        changed_.notify_all();
      });
      std::scoped_lock lock(mutex_);
      stats_ = r.ok() ? r.value() : net::http_server_stats{};
      changed_.notify_all();
    });
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 10s, [this] { return port_ != 0; });
  }
  ~test_server() { stop(); }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  [[nodiscard]] std::uint16_t port() {
    std::scoped_lock lock(mutex_);
    return port_;
  }
  [[nodiscard]] std::string url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(port()) + path; }
  [[nodiscard]] std::string log() {
    std::scoped_lock lock(mutex_);
    return log_;
  }
  net::http_server_stats stop() {
    stop_.request_stop();
    if (thread_.joinable()) thread_.join();
    std::scoped_lock lock(mutex_);
    return stats_.value_or(net::http_server_stats{});
  }

 private:
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint16_t port_ = 0;                       // guarded by mutex_
  std::string log_;                              // guarded by mutex_
  std::optional<net::http_server_stats> stats_;  // guarded by mutex_
  std::thread thread_;
};

// A client on a raw socket: send exactly these bytes, read what comes.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port)
      : fd_(scalekit::testing::connect_loopback(std::to_string(port))), connected_(fd_ >= 0) {}
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// Read until `enough(received)`, the server's close, or `wait`.
  std::string read(std::chrono::milliseconds wait, const std::function<bool(const std::string&)>& enough = {}) {
    const auto end = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (enough && enough(received_)) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      received_.append(buf, static_cast<std::size_t>(n));
    }
    return received_;
  }
  [[nodiscard]] bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

// The status lines in `s`, in order.
std::vector<std::string> statuses(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t at = s.find("HTTP/1.1 "); at != std::string::npos; at = s.find("HTTP/1.1 ", at + 1))
    out.push_back(s.substr(at, s.find("\r\n", at) - at));
  return out;
}

const std::string host = "Host: x\r\n";

}  // namespace

// Python's http.client on one kept-alive connection: GET, POST with a length
// and chunked, HEAD, chunked and length-framed streamed responses, a 404, a
// 100 kB PUT.
TEST(HttpServer, PythonHttpClientOnOneKeptAliveConnection) {
  test_server server;
  ASSERT_NE(server.port(), 0);
  const auto r = run_command("/usr/bin/python3 " SCALEKIT_FIXTURES_DIR "/http_client_conformance.py " +
                             std::to_string(server.port()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "200 b'GET /echo\\n'\n"
            "200 b'POST /echo\\nhello'\n"
            "200 b'POST /echo\\nabcd'\n"
            "200 b'' length=11\n"
            "200 b'piece 0\\npiece 1\\npiece 2\\n'\n"
            "200 b'abcdef'\n"
            "404 b'no\\n'\n"
            "200 b'PUT /echo?q=1\\n" +
                std::string(100000, 'x') +
                "'\n"
                "one connection\n")
      << r.err;
  const auto stats = server.stop();
  EXPECT_EQ(stats.connections, 1u);
  EXPECT_EQ(stats.requests, 8u);
  EXPECT_EQ(stats.client_errors, 1u);  // the 404
}

// curl: Expect: 100-continue, a chunked upload, HEAD, HTTP/1.0 with a
// streamed body (delimited by the close), and keep-alive across two URLs.
TEST(HttpServer, Curl) {
  test_server server;
  ASSERT_NE(server.port(), 0);
  scalekit::testing::temp_dir dir("http-curl");
  {
    std::ofstream f(dir / "body");
    f << std::string(200000, 'b');
  }
  const std::string curl = "curl -sS --max-time 10 ";
  auto expect = run_command(curl + "-H 'Expect: 100-continue' --data-binary @" + dir / "body" + " -w ' %{http_code}' " +
                            server.url("/echo") + " -v");
  EXPECT_EQ(expect.out, "POST /echo\n" + std::string(200000, 'b') + " 200") << expect.err;
  EXPECT_NE(expect.err.find("HTTP/1.1 100 Continue"), std::string::npos) << expect.err;
  auto chunked =
      run_command(curl + "-H 'Transfer-Encoding: chunked' --data-binary @" + dir / "body" + " " + server.url("/echo"));
  EXPECT_EQ(chunked.out, "POST /echo\n" + std::string(200000, 'b')) << chunked.err;
  auto head = run_command(curl + "-I " + server.url("/echo"));
  EXPECT_EQ(head.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head.out;
  EXPECT_NE(head.out.find("Content-Length: 11\r\n"), std::string::npos) << head.out;
  auto old = run_command(curl + "--http1.0 -D - " + server.url("/stream"));
  EXPECT_NE(old.out.find("Connection: close\r\n"), std::string::npos) << old.out;
  EXPECT_EQ(old.out.find("Transfer-Encoding"), std::string::npos) << old.out;
  EXPECT_EQ(old.out.substr(old.out.find("\r\n\r\n") + 4), "piece 0\npiece 1\npiece 2\n");
  auto two = run_command(curl + "-v " + server.url("/echo") + " " + server.url("/stream"));
  EXPECT_EQ(two.out, "GET /echo\npiece 0\npiece 1\npiece 2\n") << two.err;
  EXPECT_NE(two.err.find("Re-using existing connection"), std::string::npos) << two.err;
}

// Three requests in one write: three responses, in order, on the connection.
TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  test_server server;
  raw_client c(server.port());
  ASSERT_TRUE(c.connected());
  c.send("GET /echo?1 HTTP/1.1\r\n" + host + "\r\nPOST /echo?2 HTTP/1.1\r\n" + host +
         "Content-Length: 3\r\n\r\nabcGET /echo?3 HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
  const std::string got = c.read(5s);
  EXPECT_TRUE(c.closed());
  const auto one = got.find("GET /echo?1\n"), two = got.find("POST /echo?2\nabc"), three = got.find("GET /echo?3\n");
  ASSERT_NE(one, std::string::npos) << got;
  ASSERT_NE(two, std::string::npos) << got;
  ASSERT_NE(three, std::string::npos) << got;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_EQ(statuses(got).size(), 3u);
}

// 100 Continue before the body, only when the body is wanted: a declared
// body over the bound gets 413 at once instead.
TEST(HttpServer, ExpectContinue) {
  net::http_server_options o;
  o.limits.max_body = 1000;
  test_server server(o);
  raw_client c(server.port());
  c.send("PUT /echo HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(c.read(2s, [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; }),
            "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("hello");
  const std::string got = c.read(2s, [](const std::string& s) { return s.find("PUT /echo\nhello") != s.npos; });
  EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got;

  raw_client big(server.port());
  big.send("PUT /echo HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 1001\r\n\r\n");
  const std::string refused = big.read(2s);
  EXPECT_EQ(statuses(refused), std::vector<std::string>{"HTTP/1.1 413 Content Too Large"}) << refused;
  EXPECT_TRUE(big.closed());
}

// Request smuggling: a request two parsers could frame two ways is refused
// with 400 and the connection closed; what it carried is never answered.
TEST(HttpServer, AmbiguousFramingIs400AndAClose) {
  test_server server;
  for (const std::string& smuggler :
       {"POST /echo HTTP/1.1\r\n" + host + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 0\r\nContent-Length: 44\r\n\r\n",
        "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: xchunked\r\n\r\n",
        "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /echo HTTP/1.1\r\n" + host + "X-A: a\r\n Transfer-Encoding: chunked\r\n\r\n",
        "GET /echo HTTP/1.1\r\n" + host + "X-A: a\nContent-Length: 44\r\n\r\n"}) {
    SCOPED_TRACE(smuggler);
    raw_client c(server.port());
    c.send(smuggler + "GET /echo?smuggled HTTP/1.1\r\n" + host + "\r\n");
    const std::string got = c.read(3s);
    EXPECT_EQ(statuses(got), std::vector<std::string>{"HTTP/1.1 400 Bad Request"}) << got;
    EXPECT_EQ(got.find("smuggled"), std::string::npos);
    EXPECT_TRUE(c.closed());
  }
}

// Slow clients hold nothing for long: a slow head, a slow body (408), an
// idle kept-alive connection (closed), a client that reads nothing of its
// response (cut off).
TEST(HttpServer, SlowClientsTimeOut) {
  net::http_server_options o;
  o.head_timeout = 300ms;
  o.body_timeout = 300ms;
  o.idle_timeout = 300ms;
  o.write_timeout = 300ms;
  test_server server(o);

  raw_client head(server.port());
  head.send("GET /echo HTTP/1.1\r\nHo");
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(statuses(head.read(5s)), std::vector<std::string>{"HTTP/1.1 408 Request Timeout"});
  EXPECT_TRUE(head.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);

  raw_client body(server.port());
  body.send("POST /echo HTTP/1.1\r\n" + host + "Content-Length: 10\r\n\r\nabc");
  EXPECT_EQ(statuses(body.read(5s)), std::vector<std::string>{"HTTP/1.1 408 Request Timeout"});
  EXPECT_TRUE(body.closed());

  raw_client idle(server.port());
  idle.send("GET /echo HTTP/1.1\r\n" + host + "\r\n");
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(statuses(idle.read(5s)), std::vector<std::string>{"HTTP/1.1 200 OK"});  // then closed, no reply
  EXPECT_TRUE(idle.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);

  {
    raw_client reader(server.port());
    reader.send("GET /big?n=30000000 HTTP/1.1\r\n" + host + "\r\n");  // 30 MB, never read
    std::this_thread::sleep_for(1500ms);
  }
  raw_client after(server.port());  // still serving
  after.send("GET /echo HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
  EXPECT_EQ(statuses(after.read(5s)), std::vector<std::string>{"HTTP/1.1 200 OK"});
  const auto stats = server.stop();
  EXPECT_EQ(stats.timeouts, 3u);  // head, body, the reader; the idle one is not a timeout of a request
}

// A connection's read deadlines come from one watchdog timer that each
// kept-alive request moves later (read_watch): after many requests an idle
// connection is still closed, and a head that stops coming still gets 408
// at head_timeout, also when that comes before the idle time the timer was
// last set for.
TEST(HttpServer, DeadlinesHoldAfterManyKeptAliveRequests) {
  const auto answer_many = [](raw_client& c) {
    for (std::size_t i = 1; i <= 20; ++i) {
      c.send("GET /echo HTTP/1.1\r\n" + host + "\r\n");
      c.read(5s, [i](const std::string& s) { return statuses(s).size() == i; });
    }
    return statuses(c.read(0ms)).size();
  };
  net::http_server_options o;
  o.head_timeout = 300ms;
  o.idle_timeout = 60s;  // a head left to wait for the idle deadline would outlast the test's reads
  test_server server(o);
  raw_client c(server.port());
  ASSERT_EQ(answer_many(c), 20u);
  c.send("GET /echo HTTP/1.1\r\nHo");
  const std::string got = c.read(10s, [](const std::string& s) { return statuses(s).size() == 21; });
  ASSERT_EQ(statuses(got).size(), 21u) << got;
  EXPECT_EQ(statuses(got).back(), "HTTP/1.1 408 Request Timeout");
  c.read(5s);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(server.stop().timeouts, 1u);

  net::http_server_options quiet;
  quiet.idle_timeout = 300ms;
  test_server idle_server(quiet);
  raw_client idle(idle_server.port());
  ASSERT_EQ(answer_many(idle), 20u);
  idle.read(10s);
  EXPECT_TRUE(idle.closed());  // at idle_timeout, without a word
  EXPECT_EQ(statuses(idle.read(0ms)).size(), 20u);
}

// Connections past max_connections get 503 at once; a slot freed serves again.
TEST(HttpServer, ConnectionsPastTheLimitGet503) {
  net::http_server_options o;
  o.max_connections = 2;
  test_server server(o);
  auto a = std::make_unique<raw_client>(server.port());
  raw_client b(server.port());
  a->send("GET /echo HTTP/1.1\r\n" + host + "\r\n");
  b.send("GET /echo HTTP/1.1\r\n" + host + "\r\n");
  a->read(2s, [](const std::string& s) { return s.find("GET /echo\n") != s.npos; });
  raw_client third(server.port());
  const std::string refused = third.read(2s);
  EXPECT_EQ(statuses(refused), std::vector<std::string>{"HTTP/1.1 503 Service Unavailable"}) << refused;
  EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_TRUE(third.closed());
  a.reset();  // a slot frees
  std::this_thread::sleep_for(200ms);
  raw_client fourth(server.port());
  fourth.send("GET /echo HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
  EXPECT_EQ(statuses(fourth.read(2s)), std::vector<std::string>{"HTTP/1.1 200 OK"});
  const auto stats = server.stop();
  EXPECT_EQ(stats.refused, 1u);
  const std::string log = server.log();
  EXPECT_NE(log.find("connection limit of 2 reached"), std::string::npos) << log;
  EXPECT_NE(log.find("below the connection limit again: 1 connections were refused"), std::string::npos) << log;
}

// The bytes all connections hold are bounded: a body that would take them
// past max_buffered_bytes gets 503, and the client reads it.
TEST(HttpServer, BytesPastTheBudgetGet503) {
  net::http_server_options o;
  o.max_buffered_bytes = 100000;
  test_server server(o);
  raw_client c(server.port());
  c.send("POST /echo HTTP/1.1\r\n" + host + "Content-Length: 300000\r\n\r\n");
  c.send(std::string(300000, 'x'));
  const std::string got = c.read(3s);
  EXPECT_EQ(statuses(got), std::vector<std::string>{"HTTP/1.1 503 Service Unavailable"}) << got;
  EXPECT_EQ(server.stop().busy, 1u);
  EXPECT_NE(server.log().find("busy"), std::string::npos);
}

// A handler that throws, or gives a header field that would inject lines,
// gets the client a 500 (and the connection goes on); a stream that breaks
// mid-body ends the connection (the head is out: only the close can say it).
TEST(HttpServer, HandlerFailuresAre500) {
  test_server server;
  raw_client c(server.port());
  c.send("GET /throw HTTP/1.1\r\n" + host + "\r\nGET /bad-header HTTP/1.1\r\n" + host +
         "\r\nGET /stream-broken HTTP/1.1\r\n" + host + "\r\n");
  const std::string got = c.read(3s);
  EXPECT_EQ(statuses(got), (std::vector<std::string>{"HTTP/1.1 500 Internal Server Error",
                                                     "HTTP/1.1 500 Internal Server Error", "HTTP/1.1 200 OK"}))
      << got;
  EXPECT_EQ(got.find("Set-Cookie"), std::string::npos);
  EXPECT_NE(got.find("7\r\npartial\r\n"), std::string::npos);
  EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos);  // no last chunk: the client knows the body is cut
  EXPECT_TRUE(c.closed());
  const std::string log = server.log();
  EXPECT_NE(log.find("handler failed: handler broke (GET /throw)"), std::string::npos) << log;
  EXPECT_NE(log.find("invalid response header field 'X-Injected'"), std::string::npos) << log;
  EXPECT_NE(log.find("response body failed: the source broke"), std::string::npos) << log;
}

// A stop while the accept loop pauses (accept_pause: serve's share of
// connections) ends the loop; it used to accept on the closed acceptor and log
// "accept failed: Bad file descriptor" every 100 ms of the grace period.
TEST(HttpServer, AStopDuringAnAcceptPauseIsNoAcceptFailure) {
  net::http_server_options o;
  o.accept_pause = [](std::size_t open) { return open > 0 ? 20ms : 0ms; };
  o.grace = 10s;
  test_server server(o);
  raw_client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\n"));  // a request begun: the stop waits for it
  std::this_thread::sleep_for(200ms);
  std::thread stopper([&] { server.stop(); });
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(c.send(host + "\r\n"));
  const std::string got = c.read(5s, [](const std::string& s) { return s.find("GET /echo") != std::string::npos; });
  stopper.join();
  EXPECT_EQ(statuses(got), std::vector<std::string>{"HTTP/1.1 200 OK"}) << got;
  EXPECT_EQ(server.log().find("accept failed"), std::string::npos) << server.log();
}

// Accept failing for a while (as out of descriptors, below): said once and
// once more when it works again, and the queued client is served. The failure
// is injected, so this runs under the sanitizers too.
TEST(HttpServer, AcceptFailuresAreLoggedOnceThenServed) {
  net::http_server_options o;
  auto failures_left = std::make_shared<std::atomic<int>>(3);  // 300 ms of EMFILE from the start
  o.TEST_accept_error = [failures_left] {
    return failures_left->fetch_sub(1) > 0 ? std::make_error_code(std::errc::too_many_files_open) : std::error_code();
  };
  test_server server(o);
  raw_client c(server.port());  // queued while accept fails
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"));
  const std::string got = c.read(5s, [](const std::string& s) { return s.find("GET /echo") != std::string::npos; });
  EXPECT_EQ(statuses(got), std::vector<std::string>{"HTTP/1.1 200 OK"}) << got;
  EXPECT_LE(failures_left->load(), 0);  // all three failures happened before the accept
  const std::string log = server.log();
  std::size_t failures = 0;
  for (auto at = log.find("accept failed"); at != std::string::npos; at = log.find("accept failed", at + 1)) ++failures;
  EXPECT_EQ(failures, 1u) << log;
  EXPECT_NE(log.find("accept failed: Too many open files (retrying every 100 ms)"), std::string::npos) << log;
  EXPECT_NE(log.find("accepting again"), std::string::npos) << log;
}

// Out of file descriptors for real, accept fails until connections close:
// said once and once more when it works again, not ten times a second while
// it lasts.
TEST(HttpServer, RunningOutOfDescriptorsIsLoggedOnce) {
  // Not under the sanitizers: their runtime needs descriptors of its own. A
  // UBSan vptr check that misses its cache proves the vtable readable by
  // writing it into a pipe (IsAccessibleMemoryRange); with the process out of
  // descriptors pipe() fails with EMFILE, and UBSan reports "invalid vptr" for
  // a sound object (asio's cancellation handlers, std::ifstream in
  // run_command) and ends the test. The test above covers the same path
  // with the failure injected.
  if (scalekit::testing::sanitized) GTEST_SKIP() << "a sanitizer's runtime cannot run out of descriptors";
  test_server server;
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  std::size_t open = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++open;
  rlimit tight = old;
  tight.rlim_cur = open + 8;  // run_command's own, a few connections, then EMFILE
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  // 20 connections from another process (this one has no descriptors to spare), held 1.5 s.
  const auto held = scalekit::testing::run_command(
      "/usr/bin/python3 -c \"import resource, socket, time; resource.setrlimit(resource.RLIMIT_NOFILE, (1024, "
      "resource.getrlimit(resource.RLIMIT_NOFILE)[1])); s = [socket.create_connection(('127.0.0.1', " +
      std::to_string(server.port()) + ")) for _ in range(20)]; time.sleep(1.5)\"");
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_EQ(held.exit_code, 0) << held.err;
  raw_client c(server.port());  // served once descriptors are back
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"));
  const std::string got = c.read(5s, [](const std::string& s) { return s.find("GET /echo") != std::string::npos; });
  EXPECT_EQ(statuses(got), std::vector<std::string>{"HTTP/1.1 200 OK"}) << got;
  const std::string log = server.log();
  std::size_t failures = 0;
  for (auto at = log.find("accept failed"); at != std::string::npos; at = log.find("accept failed", at + 1)) ++failures;
  EXPECT_EQ(failures, 1u) << log;
  EXPECT_NE(log.find("accepting again"), std::string::npos) << log;
}
