#pragma once
// Socket I/O for the services on the core event loop: take what has already
// arrived (or fits) with non-blocking calls, and suspend only for the rest,
// with a deadline. A request usually arrives with its connection and a reply
// fits the socket buffer, so most requests never suspend on I/O.
//
//   read_available    what has arrived, no waiting
//   read_within       exactly N bytes within a time
//   read_some_until   some bytes, waiting until a deadline at most
//   write_within      all bytes, failing when the peer takes none for a time
//   write_all         all bytes, however long the peer takes
//   close_gracefully  shut down the sending side, drain the input a while, close
//
// Thread safety: as the stream's (one loop thread uses a socket).

#include <sys/sendfile.h>

#include <algorithm>
#include <array>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <utility>

#include "scalekit/core/async.h"

namespace scalekit::net {

using core::task;
using core::operator||;

/// Make `stream`'s synchronous calls non-blocking, once: Asio's setter makes
/// an ioctl each time it is called (two a request when every read and write
/// set it).
template <typename Stream>
void set_non_blocking(Stream& stream, asio::error_code& ec) {
  if (!stream.non_blocking()) stream.non_blocking(true, ec);
}

/// Read from a socket (or descriptor) what has already arrived, up to the
/// buffer's size, without waiting: the bytes read, and an error other than
/// would_block (eof, reset...) when there was one.
template <typename Stream>
std::size_t read_available(Stream& stream, asio::mutable_buffer buf, asio::error_code& ec) {
  std::size_t got = 0;
  set_non_blocking(stream, ec);  // affects only synchronous calls on this object
  while (!ec && got < buf.size()) {
    const std::size_t n = stream.read_some(buf + got, ec);
    got += n;
  }
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  return got;
}

/// Read exactly asio::buffer_size(buf) bytes from `stream`, or stop when
/// `timeout` runs out: the error (asio::error::timed_out when the time ran
/// out, eof, reset...) and how many bytes arrived. Never throws for I/O errors.
/// Bytes that have already arrived are taken at once, with no timer and no
/// wait: a request that came with its connection costs no suspension.
template <typename Stream>
task<std::pair<asio::error_code, std::size_t>> read_within(Stream& stream, asio::mutable_buffer buf,
                                                           std::chrono::nanoseconds timeout) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  asio::error_code early;
  const std::size_t ready = read_available(stream, buf, early);
  if (early || ready == buf.size()) co_return std::make_pair(early, ready);
  asio::steady_timer timer(stream.get_executor(), timeout);
  auto outcome = co_await (asio::async_read(stream, buf + ready, as_tuple) || timer.async_wait(as_tuple));
  if (outcome.index() == 1) co_return std::make_pair(asio::error_code(asio::error::timed_out), ready);
  auto [ec, n] = std::get<0>(outcome);
  co_return std::make_pair(ec, ready + n);
}

/// Read what has arrived, up to the buffer's size; when nothing has, wait
/// until some arrives or `deadline` passes. Returns the error (eof, reset...;
/// asio::error::timed_out at the deadline) and the bytes read: bytes may come
/// with an error (the peer's last bytes, then eof), so use them first. Never
/// throws for I/O errors.
template <typename Stream>
task<std::pair<asio::error_code, std::size_t>> read_some_until(Stream& stream, asio::mutable_buffer buf,
                                                               std::chrono::steady_clock::time_point deadline) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  asio::error_code early;
  const std::size_t ready = read_available(stream, buf, early);
  if (ready > 0 || early || buf.size() == 0) co_return std::make_pair(early, ready);
  if (std::chrono::steady_clock::now() >= deadline)
    co_return std::make_pair(asio::error_code(asio::error::timed_out), std::size_t{0});
  asio::steady_timer timer(stream.get_executor(), deadline);
  auto outcome = co_await (stream.async_read_some(buf, as_tuple) || timer.async_wait(as_tuple));
  if (outcome.index() == 1) co_return std::make_pair(asio::error_code(asio::error::timed_out), std::size_t{0});
  auto [ec, n] = std::get<0>(outcome);
  co_return std::make_pair(ec, n);
}

/// Write all of `buf` to `stream`, at once when the socket takes it, else
/// waiting for room for as long as the peer keeps taking bytes: a peer that
/// takes none for `stall` fails the write with asio::error::timed_out, so a
/// client that never reads holds the connection for that long at most. The
/// error, if any; never throws for I/O errors.
template <typename Stream>
task<asio::error_code> write_within(Stream& stream, asio::const_buffer buf, std::chrono::nanoseconds stall) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  asio::error_code ec;
  set_non_blocking(stream, ec);
  std::size_t sent = 0;
  for (;;) {
    while (!ec && sent < buf.size()) sent += stream.write_some(buf + sent, ec);
    if (sent == buf.size()) co_return asio::error_code{};
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
    ec = {};
    asio::steady_timer timer(stream.get_executor(), stall);
    auto outcome = co_await (stream.async_wait(Stream::wait_write, as_tuple) || timer.async_wait(as_tuple));
    if (outcome.index() == 1) co_return asio::error_code(asio::error::timed_out);
    if (auto [wec] = std::get<0>(outcome); wec) co_return wec;
  }
}

/// Send `length` bytes of the regular file `fd` from `offset` to the socket
/// with sendfile(2), waiting for room as write_within does (a peer that takes
/// nothing for `stall`: asio::error::timed_out). A file that ends first:
/// asio::error::eof. The error, if any; never throws for I/O errors.
template <typename Socket>
task<asio::error_code> sendfile_within(Socket& sock, int fd, std::uint64_t offset, std::uint64_t length,
                                       std::chrono::nanoseconds stall) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  asio::error_code ec;
  set_non_blocking(sock, ec);
  if (ec) co_return ec;
  auto at = static_cast<off_t>(offset);
  while (length > 0) {
    const ssize_t n = ::sendfile(sock.native_handle(), fd, &at, std::min<std::uint64_t>(length, std::size_t{1} << 20));
    if (n > 0) {
      length -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) co_return asio::error_code(asio::error::eof);  // the file shrank
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) co_return asio::error_code(errno, asio::error::get_system_category());
    asio::steady_timer timer(sock.get_executor(), stall);
    auto outcome = co_await (sock.async_wait(Socket::wait_write, as_tuple) || timer.async_wait(as_tuple));
    if (outcome.index() == 1) co_return asio::error_code(asio::error::timed_out);
    if (auto [wec] = std::get<0>(outcome); wec) co_return wec;
  }
  co_return asio::error_code{};
}

/// Close a connection so that the peer reads all that was sent to it: shut
/// down the sending side (the peer reads the end of the stream after the
/// reply), read and discard what the peer still sends until it closes its side
/// too or `linger` has passed, then close. Closing a socket with unread input
/// resets the connection, and the reset can reach the peer before it has read
/// the reply (an error reply to a request whose body is still coming, say).
/// A socket already closed is left alone. Never throws for I/O errors.
template <typename Socket>
task<void> close_gracefully(Socket& sock, std::chrono::nanoseconds linger) {
  if (!sock.is_open()) co_return;
  asio::error_code ec;
  sock.shutdown(Socket::shutdown_send, ec);
  if (!ec) {
    const auto deadline = std::chrono::steady_clock::now() + linger;
    std::array<char, 16384> sink;
    for (;;) {
      auto [rec, n] = co_await read_some_until(sock, asio::buffer(sink), deadline);
      if (rec) break;  // the peer's end of stream, a reset, or the time is up
    }
  }
  sock.close(ec);
}

/// Write all of `buf` to `stream`: at once when the socket takes it (the
/// usual case for a reply), otherwise waiting for room, however long that
/// takes (write_within bounds the wait). The error, if any.
template <typename Stream>
task<asio::error_code> write_all(Stream& stream, asio::const_buffer buf) {
  asio::error_code ec;
  set_non_blocking(stream, ec);
  std::size_t sent = 0;
  while (!ec && sent < buf.size()) sent += stream.write_some(buf + sent, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  if (sent == buf.size()) co_return asio::error_code{};
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  auto [wec, n] = co_await asio::async_write(stream, buf + sent, as_tuple);
  co_return wec;
}

}  // namespace scalekit::net
