#pragma once
// `scalekit dns serve`: the seed's asyncio DNS server (chapter 14) as a real
// one. UDP and TCP (length-prefixed, as resolvers retry there after TC) on the
// same port; answers come from net/dns.h.
//
//   thread 0: io_context ── UDP socket 0 (SO_REUSEPORT) ── recvmmsg/answer/sendmmsg
//             └─ TCP acceptor ── a coroutine per connection (idle timeout, bounded count)
//   thread k: io_context ── UDP socket k (same port; the kernel spreads clients)
//
// One event loop per thread, nothing shared but the immutable zone; counters
// are per thread and summed at the end. SIGINT/SIGTERM stop every loop.

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "scalekit/core/status.h"
#include "scalekit/net/dns.h"

namespace scalekit::net::dns {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4343;  ///< 0: any free port (the "listening on" log line says which)
  std::size_t threads = 1;    ///< event loops, each with its own UDP socket
  bool tcp = true;
  std::chrono::milliseconds tcp_idle_timeout{10000};  ///< a TCP client silent this long is closed
  std::size_t max_tcp_connections = 256;              ///< more are closed on accept
  bool log_queries = false;                           ///< one line per query (slow; the seed's prints)
  /// Serve until a stop is requested here (the stop signals, for the command line).
  std::stop_token stop;
};

struct server_stats {
  std::uint64_t udp_queries = 0, tcp_queries = 0;  ///< messages received
  std::uint64_t replies = 0, dropped = 0;          ///< dropped: too short or not a query
  std::uint64_t formerr = 0, nxdomain = 0, truncated = 0, other_errors = 0;
  std::uint64_t tcp_connections = 0, tcp_refused = 0;
  server_stats& operator+=(const server_stats& o);
};

/// Serve `z` until SIGINT or SIGTERM. `log` gets one line per notable event,
/// starting with "listening on HOST:PORT (...)". Fails when it cannot listen.
result<server_stats> serve(const server_options& o, const zone& z, const std::function<void(const std::string&)>& log);

}  // namespace scalekit::net::dns
