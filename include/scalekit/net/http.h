#pragma once
// HTTP/1.1 messages, as scalekit's own services need them: parsing a request
// head and formatting a response. Pure functions, no sockets (the fuzzer links
// only these).

#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::net {

struct http_request {
  std::string method, target;
  int minor_version = 1;  ///< HTTP/1.<minor>
  bool keep_alive = true;
};

struct http_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Parse a request head (the bytes up to and including the blank line).
/// Fails with a message fit for a 400 reply: a malformed request line or
/// header, a version other than HTTP/1.0 and 1.1, a request with a body.
result<http_request> parse_request_head(std::string_view head);
/// "HTTP/1.1 404 Not Found\r\n..." with Content-Length, Content-Type and
/// Connection; the body unless `head_only`.
std::string format_response(const http_response& r, bool keep_alive, bool head_only);

}  // namespace scalekit::net
