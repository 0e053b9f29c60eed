// libFuzzer target: any bytes as an HTTP request head. Parsing must never
// crash or read out of bounds; what it accepts must be well formed; a reply
// formatted for it must declare its body's true length.

#include <cstdlib>
#include <string>

#include "scalekit/net/http.h"

namespace net = scalekit::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  const auto r = net::parse_request_head(head);
  if (!r.ok()) return 0;
  if (r->method.empty() || r->target.empty() || r->target[0] != '/') std::abort();
  for (char c : r->method)
    if (c < 'A' || c > 'Z') std::abort();
  if (r->minor_version != 0 && r->minor_version != 1) std::abort();
  const std::string body(r->target.size() % 97, 'x');
  const std::string reply = net::format_response({200, "text/plain", body}, r->keep_alive, false);
  if (reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n") == std::string::npos) std::abort();
  if (reply.size() < body.size() || reply.compare(reply.size() - body.size(), body.size(), body) != 0) std::abort();
  return 0;
}
