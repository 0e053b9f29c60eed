#pragma once
// The accept side shared by scalekit's TCP services (sort-service, the HTTP
// server): listen, log "listening on HOST:PORT", run one coroutine per
// connection on one event-loop thread, until a stop is requested. It bounds
// what clients can take and closes connections so that replies are read:
//
//   accept ── live < max_connections ──> on_connection(conn) ──> close_gracefully
//          └─ otherwise ──> write `refusal`, close_gracefully (logged once per episode)
//
// - at most `max_connections` connections are served at once; the ones past it
//   get `refusal` (a service's error reply) and are closed;
// - the bytes the connections' buffers hold are bounded server-wide: a service
//   asks tcp_connection::hold() before it grows a buffer, and answers "busy"
//   when the budget has no room;
// - when a handler returns with its socket open, the server shuts down the
//   sending side, drains the input for at most `linger`, then closes: a client
//   still sending reads the reply instead of a reset;
// - at the stop, with a `grace`, it stops accepting and lets connections end
//   (tcp_connection::draining, set_idle) for at most that long; without one,
//   open connections are closed at once.

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/status.h"

namespace scalekit::net {

namespace detail {
struct tcp_server_state;
}

/// One accepted connection, as run_tcp_server hands it to a service. Lives on
/// the loop thread (not thread-safe, like the socket).
class tcp_connection {
 public:
  tcp_connection(asio::ip::tcp::socket sock, detail::tcp_server_state& server);
  ~tcp_connection();
  tcp_connection(const tcp_connection&) = delete;
  tcp_connection& operator=(const tcp_connection&) = delete;

  [[nodiscard]] asio::ip::tcp::socket& socket() noexcept { return socket_; }

  /// Say that this connection's buffers now hold `bytes` bytes in all (what
  /// it read and keeps). Growing fails (false, nothing changes) when the
  /// server-wide budget (tcp_server_options::max_buffered_bytes) has no room
  /// for it: the service then answers "busy" and ends the connection. Shrinking
  /// always succeeds. What a connection holds is given back when it ends.
  [[nodiscard]] bool hold(std::size_t bytes);
  [[nodiscard]] std::size_t held() const noexcept { return held_; }

  /// Close the socket at once, without the graceful close (a peer that is
  /// gone, or one that does not read).
  void abort() noexcept;

  /// The server is stopping with a grace period: finish what is under way,
  /// start nothing new.
  [[nodiscard]] bool draining() const noexcept;
  /// Say whether the connection is between requests. When the drain starts,
  /// the reads of idle connections are cancelled (operation_aborted), so
  /// they end at once instead of at their idle timeout.
  void set_idle(bool idle);

 private:
  asio::ip::tcp::socket socket_;
  detail::tcp_server_state& server_;
  std::size_t held_ = 0;
};

using connection_handler = std::function<core::task<void>(tcp_connection&)>;

struct tcp_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: any free port (the log line says which)
  /// Connections served at once; more are sent `refusal` and closed (each
  /// costs a descriptor, and slow clients would hold them all).
  std::size_t max_connections = 512;
  /// Bytes all connections' buffers may hold together (tcp_connection::hold).
  std::size_t max_buffered_bytes = std::size_t{256} << 20;
  /// After a handler ends: how long to drain the peer's input before the close.
  std::chrono::milliseconds linger{2000};
  /// Written to a connection refused at max_connections ("" for nothing).
  std::string refusal;
  /// Serve until a stop is requested here.
  std::stop_token stop;
  /// At the stop: 0 closes open connections at once; otherwise accepting
  /// stops and connections get this long to end on their own (draining).
  std::chrono::milliseconds grace{0};
  /// Sockets already listening (a supervising master's, systemd's) to serve
  /// instead of binding host:port; adopted, and closed at the end.
  std::vector<int> listen_fds;
  /// Called on the loop's thread before the first accept: a service starts
  /// its own coroutines (timers, heartbeats) on the loop here.
  std::function<void(asio::io_context&)> on_start;
  /// Called on the loop's thread once the loop has stopped, before it is
  /// destroyed: a service releases here what holds I/O objects of the loop.
  std::function<void(asio::io_context&)> on_stop;
  /// Sharing a listening socket with other servers (serve's workers): called
  /// on the loop's thread before each accept with the connections this loop
  /// has open; a positive answer puts the accept off by that long, then asks
  /// again, so that a server holding more than its share leaves the waiting
  /// connections to the others (whichever loop wakes first would otherwise
  /// take a whole burst). Null: accept at once.
  std::function<std::chrono::microseconds(std::size_t open)> accept_pause;
  /// Called on the loop's thread whenever the count of open connections
  /// changes, with the new count (for a scoreboard). Null: nothing.
  std::function<void(std::size_t open)> on_connections;
  /// Tests only (fault injection): asked on the loop's thread before each
  /// accept; an error it returns stands for that accept's failure, as if the
  /// kernel had said it (the connection stays queued). A sanitized test cannot
  /// run out of descriptors for real: UBSan's runtime then fails its own vptr
  /// checks (tests/net/http_server_test.cc). Null: every accept is real.
  std::function<std::error_code()> TEST_accept_error;
  /// Runs the loop until it stops (null: loop.run() on the calling thread).
  /// A service that passes the loop between threads of its own (serve's
  /// loop_relay) runs it here; it must never let two threads run it at once.
  std::function<void(asio::io_context&)> run;
};

struct tcp_server_stats {
  std::uint64_t accepted = 0;     ///< handed to the handler
  std::uint64_t refused = 0;      ///< over max_connections
  std::uint64_t over_budget = 0;  ///< hold() calls refused for want of room
};

/// Serve o.host:o.port (or o.listen_fds) until o.stop is requested. `on_connection` runs once
/// per accepted connection (the socket stays the server's: it closes it
/// gracefully when the handler returns, unless the handler closed it); an
/// exception it throws is logged and costs only that connection (closed at
/// once). `log` gets "listening on HOST:PORT", accept errors, and one line when
/// the connection limit or the byte budget starts refusing (not one per
/// client). Fails when it cannot listen: invalid_argument for a host that is
/// not an IP address, io_error otherwise. Connections still open at the stop
/// are closed without a reply.
result<tcp_server_stats> run_tcp_server(const tcp_server_options& o, const connection_handler& on_connection,
                                        const std::function<void(const std::string&)>& log);

}  // namespace scalekit::net
