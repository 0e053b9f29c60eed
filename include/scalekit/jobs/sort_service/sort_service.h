#pragma once
// The sort service: the seed's asyncio "sort as a service" (chapter 14) on the
// core event loop, with the sorting on a core executor, never on the loop.
//
// Protocol (the seed's, so its Python client works unchanged): the client sends
// an 8-byte big-endian length and that many bytes of a JSON array of integers;
// the server replies with the sorted array as JSON ("[1, 2, 3]", Python's
// json.dumps spacing) and closes. A bad request gets {"error": "..."} and a
// close; the server keeps serving.
//
// Two entries of the one job shape (core/job.h): serve(), a service that runs
// until the observer's stop token fires, and call(), its client.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::sort_service {

/// Register the task the server sends its requests to (a request body in, the
/// reply out). Worker processes of a processes executor need it: call it at
/// program start, before core::run_worker_if_requested().
void register_tasks();

/// Sort one request body (a JSON array of 64-bit integers) on `ex`, as the
/// server does: the sorted array as JSON, or invalid_argument naming what is
/// wrong with the body (serve's POST /sort). Blocks until done.
result<std::string> sort_body(core::executor& ex, std::string body);

struct serve_options {
  std::string host = "127.0.0.1";
  /// 0: any free port (the "listening on HOST:PORT" message says which).
  std::uint16_t port = 2015;
  std::uint64_t max_bytes = std::uint64_t{64} << 20;  ///< larger declared lengths are refused unread
  /// Bytes the requests being read or sorted may hold together: a body's
  /// buffer grows as its bytes arrive (never to the declared length ahead),
  /// and a request that would take the total past this gets an error reply
  /// ("the server is busy"). At least max_bytes, or large requests never fit.
  std::uint64_t max_in_flight = std::uint64_t{256} << 20;
  /// Connections served at once; more get an error reply and a close.
  std::size_t max_connections = 512;
  std::chrono::milliseconds idle_timeout{10000};   ///< a connection silent this long is closed unanswered
  std::chrono::milliseconds read_timeout{10000};   ///< from the length to the body's last byte
  std::chrono::milliseconds write_timeout{10000};  ///< a client that takes none of its reply this long is cut off
};

/// Serve on o.host:o.port, sorting on `ex` (once its workers are ready:
/// executor::wait_ready()), until `obs.stop_token()` fires;
/// then stop accepting, cancel `ex` (requests still queued get an error
/// reply), wait for the calls that run, and return the report.
///
/// Every reply is followed by a graceful close (net/tcp_server.h): the
/// server shuts down its side and drains the input a moment before closing,
/// so a client still sending (a refused request's body) reads its reply.
///
/// Messages: "listening on HOST:PORT" once the socket is bound, errors of the
/// accept loop, and when the connection limit or max_in_flight starts and
/// stops refusing (once each, not per client). Bad requests are not failures:
/// they get their error reply and count in the report.
///
/// Report ("sort-service serve"): connections, sorted, errors (error
/// replies), dropped (connections that sent no request), refused (over
/// max_connections), busy (over max_in_flight), and the executor's fields
/// (core::add_executor_fields).
///
/// Errors: invalid_argument for a host that is not an IP address or
/// max_in_flight below max_bytes; io_error "cannot listen on HOST:PORT: ..."
/// when the port cannot be bound.
result<core::report> serve(const serve_options& o, core::executor& ex, core::observer& obs);

struct call_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2015;
  std::chrono::milliseconds timeout{60000};  ///< for the connection, then for the whole reply
  /// The request body, a JSON array of integers...
  std::string body;
  /// ...or, when not null, the stream it is read from to its end (the command
  /// line: standard input)...
  std::istream* input = nullptr;
  std::string input_name = "standard input";  ///< for messages
  /// ...of at most this many bytes (more fails with too_large before anything
  /// is sent: the service's own default bound).
  std::uint64_t max_bytes = std::uint64_t{64} << 20;
};

/// Send one request to a sort service and output its reply, one line.
/// An error reply ({"error": ...}) is also a message and a failure.
///
/// Report ("sort-service call"): request_bytes, reply_bytes, reply (the reply
/// itself, for --json, whose stdout is the report).
///
/// Errors: too_large when o.input holds more than o.max_bytes ("INPUT_NAME:
/// more than N bytes"); io_error when the service cannot be reached or
/// closes without a reply; timeout when the reply does not come within
/// o.timeout; cancelled when the observer's stop was requested first.
result<core::report> call(const call_options& o, core::observer& obs);

}  // namespace scalekit::jobs::sort_service
