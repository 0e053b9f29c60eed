#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "serve_detail.h"

namespace scalekit::serve {

namespace {

// Above the descriptors a worker gets (3, 4, ...), so that dup2 into them
// never overwrites a source still to be copied.
constexpr int high_fd = 64;

int move_high(int fd) {
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, high_fd);
  ::close(fd);
  return moved;
}

int backlog() {
  int somaxconn = 4096;
  std::ifstream("/proc/sys/net/core/somaxconn") >> somaxconn;
  return std::min(1024, somaxconn);
}

std::string name_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
  ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                NI_NUMERICHOST | NI_NUMERICSERV);
  return addr.ss_family == AF_INET6 ? "[" + std::string(host) + "]:" + port : std::string(host) + ":" + port;
}

// Whether `fd` is a socket that listens (async-signal-safe).
bool is_listening(int fd) {
  int listening = 0;
  socklen_t len = sizeof listening;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening != 0;
}

// What the child of a fork closes (close_server_fds_in_children): set once,
// before the worker runs anything that could fork, then only read.
constexpr int max_child_fds = 16;
int child_listening[max_child_fds];
int child_listening_count = 0;
int child_board_fd = -1;

// Runs in the child of every fork() of the worker, async-signal-safe calls only.
void close_in_child() {
  for (int i = 0; i < child_listening_count; ++i)
    if (is_listening(child_listening[i])) ::close(child_listening[i]);
  if (child_board_fd >= 0) ::close(child_board_fd);
}

// Why systemd's descriptor `fd` cannot be served: not a socket, not a stream
// socket (UDP: accept fails for ever), not listening; "" when it can.
std::string unservable(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return std::strerror(errno);
  if (type != SOCK_STREAM) return "not a stream (TCP) socket";
  return is_listening(fd) ? "" : "not a listening socket";
}

}  // namespace

void close_server_fds_in_children(const std::vector<int>& listening, int board_fd) {
  for (const int fd : listening) {
    ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
    if (child_listening_count < max_child_fds) child_listening[child_listening_count++] = fd;
  }
  if (board_fd >= 0) ::fcntl(board_fd, F_SETFD, ::fcntl(board_fd, F_GETFD) | FD_CLOEXEC);
  child_board_fd = board_fd;
  ::pthread_atfork(nullptr, nullptr, close_in_child);
}

bound_socket adopt_socket(int fd) {
  const int high = move_high(fd);
  if (high < 0) return {};
  return {high, name_of(high)};
}

result<std::vector<bound_socket>> bind_all(const std::vector<std::string>& specs) {
  std::vector<bound_socket> out;
  // systemd socket activation: the sockets are ours when LISTEN_PID names us.
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid != nullptr && fds != nullptr && std::atol(pid) == ::getpid()) {
    const int n = std::atoi(fds);
    for (int i = 0; i < n; ++i) {
      if (const std::string why = unservable(3 + i); !why.empty()) {
        for (auto& b : out) ::close(b.fd);
        return status::invalid_argument("LISTEN_FDS: descriptor " + std::to_string(3 + i) + ": " + why);
      }
      bound_socket taken = adopt_socket(3 + i);
      if (taken.fd < 0) return status::io_error("cannot take socket " + std::to_string(3 + i) + " from systemd");
      out.push_back(std::move(taken));
    }
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!out.empty()) return out;
  }
  const auto fail = [&](status s) {
    for (auto& b : out) ::close(b.fd);
    return s;
  };
  for (const std::string& spec : specs) {
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos || colon + 1 == spec.size())
      return fail(status::invalid_argument("'" + spec + "': expected HOST:PORT"));
    std::string host = spec.substr(0, colon);
    const std::string port = spec.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number > 65535)
      return fail(status::invalid_argument("'" + spec + "': the port must be a number from 0 to 65535"));
    addrinfo hints{}, *found = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
      return fail(status::invalid_argument("'" + spec + "': " + ::gai_strerror(rc)));
    const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    int err = 0;
    if (fd < 0) {
      err = errno;
    } else if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
               ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, backlog()) != 0) {
      err = errno;
      ::close(fd);
    }
    ::freeaddrinfo(found);
    if (err != 0) return fail(status::io_error("cannot listen on " + spec + ": " + std::strerror(err)));
    const int high = move_high(fd);
    out.push_back({high, name_of(high)});
  }
  return out;
}

}  // namespace scalekit::serve
