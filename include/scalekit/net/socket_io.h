#pragma once
// Socket I/O for the services on the core event loop: take what has already
// arrived (or fits) with non-blocking calls, and suspend only for the rest,
// with a deadline. A request usually arrives with its connection and a reply
// fits the socket buffer, so most requests never suspend on I/O.
//
// Thread safety: as the stream's (one loop thread uses a socket).

#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <utility>

#include "scalekit/core/async.h"

namespace scalekit::net {

using core::task;
using core::operator||;

/// Read from a socket (or descriptor) what has already arrived, up to the
/// buffer's size, without waiting: the bytes read, and an error other than
/// would_block (eof, reset...) when there was one.
template <typename Stream>
std::size_t read_available(Stream& stream, asio::mutable_buffer buf, asio::error_code& ec) {
  std::size_t got = 0;
  stream.non_blocking(true, ec);  // affects only synchronous calls on this object
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

/// Write all of `buf` to `stream`: at once when the socket takes it (the
/// usual case for a reply), otherwise waiting for room. The error, if any.
template <typename Stream>
task<asio::error_code> write_all(Stream& stream, asio::const_buffer buf) {
  asio::error_code ec;
  stream.non_blocking(true, ec);
  std::size_t sent = 0;
  while (!ec && sent < buf.size()) sent += stream.write_some(buf + sent, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  if (sent == buf.size()) co_return asio::error_code{};
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  auto [wec, n] = co_await asio::async_write(stream, buf + sent, as_tuple);
  co_return wec;
}

}  // namespace scalekit::net
