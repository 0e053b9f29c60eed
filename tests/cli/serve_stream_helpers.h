#pragma once
// What the tests of streamed WSGI responses share (serve_stream_cli_test.cc,
// serve_stream_close_cli_test.cc): a raw-socket client that sees the bytes as
// they come, and the server hosting tests/fixtures/wsgi/stream_apps.py.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "serve_helpers.h"

namespace scalekit::testing {

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
  // Close the sending side: the server reads the end of the requests, the responses may still come.
  void shut_write() const { ::shutdown(fd_, SHUT_WR); }
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

inline bool has_field(const std::string& head, const std::string& field) {
  return head.find(field + "\r\n") != std::string::npos;
}

inline bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

inline void touch(const std::string& path) { std::ofstream(path) << "open\n"; }

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
  ASSERT_TRUE((server).wait_for_log("1 worker ready")) << (server).log()

}  // namespace scalekit::testing
