#pragma once
// A small HTTP/1.1 server on the core event loop, for scalekit's own services
// (dummyimage): GET and HEAD, keep-alive and pipelining, bounded requests.
//
//   serve_http(options, handler, log)   until options.stop is requested
//
// The handler is a coroutine: it may await work on a core executor
// (core::async_call), so the loop thread never renders or encodes. Requests
// with a body, over-long heads and malformed request lines get 400 or 431 and a
// close; methods other than GET and HEAD get 405. One io_context thread: the
// work is in the handler's executor.
//
// The messages themselves are in http.h.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "scalekit/core/async.h"
#include "scalekit/core/status.h"
#include "scalekit/net/http.h"

namespace scalekit::net {

using http_handler = std::function<core::task<http_response>(const http_request&)>;

struct http_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  ///< 0: any free port (the log line says which)
  std::size_t max_head_bytes = 8192;
  std::chrono::milliseconds idle_timeout{15000};  ///< a keep-alive connection silent this long is closed
  /// Serve until a stop is requested here (a service's observer's stop token).
  std::stop_token stop;
};

struct http_server_stats {
  std::uint64_t connections = 0, requests = 0, client_errors = 0;
};

/// Serve until o.stop is requested; `log` gets "listening on HOST:PORT" and
/// errors. Fails when it cannot listen (invalid_argument for a bad address,
/// io_error otherwise).
result<http_server_stats> serve_http(const http_server_options& o, const http_handler& handler,
                                     const std::function<void(const std::string&)>& log);

}  // namespace scalekit::net
