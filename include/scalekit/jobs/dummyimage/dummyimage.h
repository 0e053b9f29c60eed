#pragma once
// dummyimage: the offline stand-in for dummyimage.com, which the seed's URL
// thumbnailers download from. GET /<W>x<H>/<bg>/<fg>.<jpg|png> returns a W x H
// image filled with the background colour, with a border and both diagonals
// drawn in the foreground colour (a label would need fonts, which a bare
// machine may lack), made with libvips on a core executor. A service: serve()
// runs until its observer's stop token fires.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::dummyimage {

/// Sides are 1..max_side: requests stay bounded (16 megapixels at most).
inline constexpr std::uint32_t max_side = 4000;

struct image_spec {
  std::uint32_t width = 0, height = 0;
  std::uint8_t bg[3] = {}, fg[3] = {};
  bool png = false;  ///< else JPEG
};

/// A request target: the spec, or 404 (not this shape of path) / 400 (the
/// shape, with a bad size or colour) with a message.
struct parsed_target {
  int status = 200;
  std::string message;
  image_spec spec;
};
/// Colours are 3 or 6 hex digits ("fff", "00ff00"), as dummyimage.com takes
/// them; a query string is ignored.
parsed_target parse_target(std::string_view target);

/// The encoded image (runs libvips in the calling thread).
std::string render(const image_spec& spec);

/// Registers the task that renders an image on an executor (worker processes
/// must call it before serving).
void register_tasks();

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  ///< 0: any free port (the "listening on" message says which)
  /// Answer every Nth image request with 503 (0: never): a flaky origin, so
  /// clients' failure paths can be exercised and measured.
  std::uint64_t fail_every = 0;
  /// Connections served at once; more get 503 and a close.
  std::size_t max_connections = 512;
  /// A request head must be complete this long after the connection (or, on
  /// a kept-alive one, the request's first byte); else 408 (slowloris).
  std::chrono::milliseconds head_timeout{10000};
  /// A kept-alive connection silent this long between requests is closed.
  std::chrono::milliseconds idle_timeout{15000};
};

/// Serve GET /<W>x<H>/<bg>/<fg>.<jpg|png> on o.host:o.port, rendering on `ex`,
/// until the observer's stop token fires; then return the report. HEAD gets
/// the GET response's head; other methods 405. The HTTP server's bounds and
/// timeouts are net::http_server_options' defaults but for the options above
/// (net/http_server.h). Messages: "listening on HOST:PORT" once listening, and
/// the server's troubles (a failed accept, a handler that threw, the
/// connection limit or the byte budget starting to refuse). Fails before
/// serving: invalid_argument for a host that is not an IP address (bad
/// usage), io_error when it cannot listen (the port is taken).
/// The report: "served N requests on M connections" (requests, connections,
/// client_errors, refused, busy, timeouts), the request rate over the time it
/// served, and the executor's fields.
/// Thread safety: one call per port; the executor may be shared.
result<core::report> serve(const server_options& o, core::executor& ex, core::observer& obs);

}  // namespace scalekit::jobs::dummyimage
