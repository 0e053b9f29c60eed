#include "scalekit/serve/web/sse.h"

namespace scalekit::serve::web {

std::string sse_message(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(event.size() + data.size() + 16);
  out += "event: ";
  out += event;
  out += '\n';
  for (;;) {
    const auto end = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) break;
    // CRLF is one line break, a lone CR or LF another.
    const std::size_t skip = data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? 2 : 1;
    data.remove_prefix(end + skip);
  }
  out += '\n';
  return out;
}

std::string sse_retry(std::chrono::milliseconds delay) { return "retry: " + std::to_string(delay.count()) + "\n\n"; }

}  // namespace scalekit::serve::web
