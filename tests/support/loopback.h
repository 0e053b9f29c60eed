#pragma once
// A raw TCP connection to a test server on 127.0.0.1, for tests that speak
// bytes themselves (smuggling, slow readers, idle keep-alive connections).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace scalekit::testing {

struct loopback_options {
  int receive_buffer = 0;  ///< SO_RCVBUF before connecting (0: the kernel's), to make a slow reader
  std::chrono::milliseconds send_timeout{0}, receive_timeout{0};  ///< 0: block
};

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
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace scalekit::testing
