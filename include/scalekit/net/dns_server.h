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
// are per thread and summed at the end. The observer's stop token stops every
// loop.
//
// A service of the one job shape (core/job.h): serve() runs until the stop
// is requested, then returns its report.

#include <chrono>
#include <cstdint>
#include <string>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::net::dns {

struct server_options {
  std::string host = "127.0.0.1";
  /// 0: any free port (the "listening on HOST:PORT" message says which).
  std::uint16_t port = 4343;
  std::size_t threads = 1;  ///< event loops, each with its own UDP socket
  bool tcp = true;
  std::chrono::milliseconds tcp_idle_timeout{10000};  ///< a TCP client silent this long is closed
  std::size_t max_tcp_connections = 256;              ///< more are closed on accept
  bool log_queries = false;                           ///< one message per query (slow; the seed's prints)

  // The zone.
  /// "name IP [IP...]" lines (zone::load); empty: the seed's three names.
  std::string zone_file;
  bool nxdomain = false;                      ///< unknown names get NXDOMAIN...
  std::string default_address = "127.0.0.1";  ///< ...or this IPv4 address
};

/// Serve the zone until `obs.stop_token()` fires, then return the report.
///
/// Messages: each bad line of the zone file ("FILE:LINE: problem") and their
/// count, "listening on HOST:PORT (udp+tcp, N threads, M names)" once the
/// sockets are bound (the port chosen when o.port is 0), one line per query
/// with o.log_queries, and socket errors. Messages may come from every loop
/// thread at once.
///
/// Report ("dns serve"): queries (udp_queries, tcp_queries), replies, formerr,
/// nxdomain, truncated, dropped (too short or not a query), other_errors,
/// tcp_connections, tcp_refused, jobs (threads), zone_names, bad_zone_lines.
/// Bad zone lines are skipped, not failures.
///
/// Errors: invalid_argument for a listen host or default address that is not
/// an IP address; the zone file's error when it cannot be read or has a line
/// over dns::max_zone_line (too_large, "FILE:LINE: ..."); io_error
/// "cannot listen on HOST:PORT (...)" when the port cannot be bound.
result<core::report> serve(const server_options& o, core::observer& obs);

}  // namespace scalekit::net::dns
