// HTTP/1.1 request heads and responses: text in, text out.

#include <algorithm>
#include <cctype>

#include "scalekit/net/http.h"

namespace scalekit::net {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace

result<http_request> parse_request_head(std::string_view head) {
  const auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return status::invalid_argument("no request line");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return status::invalid_argument("malformed request line");
  http_request r;
  r.method = std::string(line.substr(0, sp1));
  r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    r.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    r.minor_version = 0;
  } else {
    return status::invalid_argument("unsupported protocol version");
  }
  if (r.method.empty() || r.target.empty() || r.target[0] != '/')
    return status::invalid_argument("malformed request target");
  for (char c : r.method)
    if (c < 'A' || c > 'Z') return status::invalid_argument("malformed method");
  r.keep_alive = r.minor_version == 1;
  std::string_view rest = head.substr(line_end + 2);
  while (!rest.empty()) {
    const auto e = rest.find("\r\n");
    const std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    if (h.empty()) break;
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return status::invalid_argument("malformed header line");
    const std::string name = lower(h.substr(0, colon));
    const std::string value = lower(trim(h.substr(colon + 1)));
    if (name == "connection") {
      if (value.find("close") != std::string::npos) r.keep_alive = false;
      if (value.find("keep-alive") != std::string::npos) r.keep_alive = true;
    } else if ((name == "content-length" && value != "0") || name == "transfer-encoding") {
      return status::invalid_argument("requests with a body are not accepted");
    }
  }
  return r;
}

std::string format_response(const http_response& r, bool keep_alive, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "Server: scalekit\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

}  // namespace scalekit::net
