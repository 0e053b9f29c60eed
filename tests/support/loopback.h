#pragma once
// Loopback sockets of tests: a raw TCP connection to a test server on
// 127.0.0.1, for tests that speak bytes themselves (smuggling, slow readers,
// idle keep-alive connections), and a listening socket there, for a fake
// peer, a port to find taken, or a port that was free a moment ago.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace scalekit::testing {

struct loopback_options {
  int receive_buffer = 0;  ///< SO_RCVBUF before connecting (0: the kernel's), to make a slow reader
  std::chrono::milliseconds send_timeout{0}, receive_timeout{0};  ///< 0: block
};

/// The address 127.0.0.1:`port`.
inline sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// A connected socket to 127.0.0.1:`port`, or -1.
inline int connect_loopback(const std::string& port, loopback_options o = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (o.receive_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.receive_buffer, sizeof o.receive_buffer);
  const auto set_timeout = [fd](int option, std::chrono::milliseconds t) {
    if (t.count() <= 0) return;
    const timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>(t.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
  };
  set_timeout(SO_SNDTIMEO, o.send_timeout);
  set_timeout(SO_RCVTIMEO, o.receive_timeout);
  const sockaddr_in a = loopback_address(static_cast<std::uint16_t>(std::stoi(port)));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// A TCP socket listening on 127.0.0.1, closed when this goes away.
class loopback_listener {
 public:
  loopback_listener() = default;
  loopback_listener(int fd, std::uint16_t port, int error) : fd_(fd), port_(port), error_(error) {}
  ~loopback_listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  loopback_listener(loopback_listener&& o) noexcept : fd_(std::exchange(o.fd_, -1)), port_(o.port_), error_(o.error_) {}
  loopback_listener& operator=(loopback_listener&& o) noexcept {
    std::swap(fd_, o.fd_);
    port_ = o.port_;
    error_ = o.error_;
    return *this;
  }

  /// The listening descriptor, or -1 when it could not listen (error() says why).
  [[nodiscard]] int fd() const { return fd_; }
  /// The port it listens on (the kernel's choice when asked for 0); 0 when it does not.
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  /// The errno of the call that failed (0 when it listens).
  [[nodiscard]] int error() const { return error_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  int error_ = 0;
};

/// Listen on 127.0.0.1:`port` (0: a free port the kernel chooses) with
/// SO_REUSEADDR, so a port whose last connections are in TIME_WAIT is free.
/// Nobody accepts unless the caller does: the kernel completes up to `backlog`
/// connections that nobody answers.
inline loopback_listener listen_loopback(std::uint16_t port = 0, int backlog = 64) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {-1, 0, errno};
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a = loopback_address(port);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int error = errno;
    ::close(fd);
    return {-1, 0, error};
  }
  return {fd, ntohs(a.sin_port), 0};
}

/// A loopback port that was free a moment ago (another process may take it
/// before the caller does: for a program that must be told a port).
inline std::uint16_t free_port() { return listen_loopback().port(); }

}  // namespace scalekit::testing
