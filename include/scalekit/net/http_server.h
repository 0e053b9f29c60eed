#pragma once
// An HTTP/1.1 server on the core event loop, for scalekit's services
// (dummyimage; `serve` to come): the whole request is read by the loop before
// the handler runs, so a slow client never holds the handler's resources.
//
//   serve_http(options, handler, log)   until options.stop is requested
//
//   connection ── head (head_timeout) ── [100 Continue] ── body (body_timeout) ── handler
//       ^                                                                          │
//       └── keep-alive: next request (idle_timeout) <── response (write_timeout) <─┘
//
// - Requests are parsed by net::http_request_parser (http.h), with its bounds
//   (414, 431, 413) and its refusals (400 for anything that could be read two
//   ways: request smuggling); every error reply closes the connection,
//   gracefully (the client reads the reply).
// - Keep-alive and pipelining: requests are answered in order; HEAD gets the
//   head of the GET response; "Expect: 100-continue" gets "100 Continue"
//   before the body is read.
// - Bodies in: Content-Length or chunked. Bodies out: Content-Length, or a
//   stream (http_body_source) sent chunked (HTTP/1.1) or until the close, the
//   head with its first piece, file regions with sendfile(2). While a stream
//   goes out, the client is watched: one that goes away (end of stream with
//   no request after, or a reset) cancels the source's wait at once; bytes it
//   sends meanwhile are kept as its next requests.
// - Slow clients: a head not complete within head_timeout gets 408; a body not
//   complete within body_timeout gets 408; a client that reads nothing of its
//   response for write_timeout is cut off; a keep-alive connection silent for
//   idle_timeout is closed.
// - Connections past max_connections get 503 and a close; requests whose
//   bytes would take the connections' buffers past max_buffered_bytes get 503.
// - A stop with a grace period drains: no new connections, idle keep-alive
//   ones closed after a short last wait, requests under way answered with
//   "Connection: close".
//
// The handler is a coroutine: it may await work on a core executor
// (core::async_call), so the loop thread never renders or encodes. It gets
// every method (405 and 501 are its to answer). One io_context thread: the
// work is in the handler's executor.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/status.h"
#include "scalekit/net/http.h"

namespace scalekit::net {

/// A piece of a streamed body: `bytes`, or, when `file` is set, `length`
/// bytes of that regular file from `offset`, sent with sendfile(2) (no copy
/// through the process). The descriptor is the piece's: the last holder's
/// release closes it (make_file_piece).
struct http_body_piece {
  std::string bytes;
  std::shared_ptr<const int> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  [[nodiscard]] std::uint64_t size() const noexcept { return file ? length : bytes.size(); }
};
/// A file piece that owns `fd` (closed when the piece and its copies are gone).
http_body_piece make_file_piece(int fd, std::uint64_t offset, std::uint64_t length);

/// A response body made piece by piece (http_response::stream): the server
/// calls next_piece() until it returns nullopt, and sends each non-empty piece
/// as it comes. Destroyed when the response is done, sent or not (the client
/// may be gone): release what it holds in its destructor. When the client goes
/// away, a next_piece() that waits is cancelled (its awaited operation ends
/// with operation_aborted) and the source destroyed. Used on the loop thread.
class http_body_source {
 public:
  virtual ~http_body_source() = default;
  /// The next piece, or nullopt at the end. An exception ends the response
  /// and the connection (the head is already sent) and is logged.
  virtual core::task<std::optional<std::string>> next() = 0;
  /// The same for a source that may also give file regions; by default, next()'s pieces.
  virtual core::task<std::optional<http_body_piece>> next_piece();
};

/// What http_body_source::next() throws to end a body that cannot be
/// completed when the source has logged why already: the connection is cut
/// (the client must not take a part for the whole) without another log line.
struct http_body_cut : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using http_handler = std::function<core::task<http_response>(const http_request&)>;

struct http_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  ///< 0: any free port (the log line says which)
  http_limits limits;         ///< request line (414), header fields (431), body (413)
  /// Connections served at once; more are answered 503 and closed.
  std::size_t max_connections = 512;
  /// Bytes of requests (read, not yet answered) all connections may hold together; past it 503.
  std::size_t max_buffered_bytes = std::size_t{64} << 20;
  /// A request's head must be complete this long after its first byte (for a
  /// new connection: after the accept); else 408 and a close.
  std::chrono::milliseconds head_timeout{10000};
  /// The body must be complete this long after the head; else 408 and a close.
  std::chrono::milliseconds body_timeout{30000};
  /// A keep-alive connection silent this long between requests is closed.
  std::chrono::milliseconds idle_timeout{15000};
  /// A client that takes no byte of its response for this long is cut off.
  std::chrono::milliseconds write_timeout{30000};
  /// Closing a connection: how long to drain what the client still sends.
  std::chrono::milliseconds linger{2000};
  /// Serve until a stop is requested here (a service's observer's stop token).
  std::stop_token stop;
  /// At the stop: 0 closes open connections at once; otherwise accepting
  /// stops, idle keep-alive connections close, requests under way are
  /// answered (with "Connection: close") for at most this long.
  std::chrono::milliseconds grace{0};
  /// Sockets already listening to serve instead of host:port (tcp_server_options).
  std::vector<int> listen_fds;
  /// Called on the loop's thread before the first accept (tcp_server_options).
  std::function<void(asio::io_context&)> on_start;
  /// Called on the loop's thread once it has stopped, before it is destroyed (tcp_server_options).
  std::function<void(asio::io_context&)> on_stop;
  /// Before each accept: how long to put it off, given the connections open (tcp_server_options).
  std::function<std::chrono::microseconds(std::size_t open)> accept_pause;
  /// The count of open connections, whenever it changes (tcp_server_options).
  std::function<void(std::size_t open)> on_connections;
  /// Runs the loop until it stops (tcp_server_options).
  std::function<void(asio::io_context&)> run;
  /// Tests only: an error for the next accept instead of accepting (tcp_server_options).
  std::function<std::error_code()> TEST_accept_error;
};

struct http_server_stats {
  std::uint64_t connections = 0;    ///< served (refused ones not included)
  std::uint64_t requests = 0;       ///< complete requests handed to the handler
  std::uint64_t client_errors = 0;  ///< 4xx replies, the server's own and the handler's
  std::uint64_t refused = 0;        ///< connections over max_connections (503)
  std::uint64_t busy = 0;           ///< requests refused over max_buffered_bytes (503)
  std::uint64_t timeouts = 0;       ///< heads, bodies and responses cut off by their timeouts
};

/// Serve until o.stop is requested; `log` gets "listening on HOST:PORT",
/// handler failures, and when the connection limit or the byte budget starts
/// and stops refusing. Fails when it cannot listen (invalid_argument for a
/// bad address, io_error otherwise). A handler that throws, or returns a
/// response with an invalid header field, gets the client a 500.
result<http_server_stats> serve_http(const http_server_options& o, const http_handler& handler,
                                     const std::function<void(const std::string&)>& log);

}  // namespace scalekit::net
