#pragma once
// Server-Sent Events framing (the WHATWG HTML standard, "text/event-stream"):
// what /fleet/events sends, one message at a time.
//
//   retry: 500          how long a browser waits before it reconnects (ms)
//
//   event: fleet        the message's type (EventSource.addEventListener("fleet", ...))
//   data: {"workers":   one "data:" line per line of the payload; the browser
//   data: ...}          joins them with "\n"
//                       an empty line ends the message

#include <chrono>
#include <string>
#include <string_view>

namespace scalekit::serve::web {

/// One message of type `event` carrying `data`. Each line of `data` (split at
/// LF, CRLF or CR, which the browser would otherwise read as the message's
/// end) becomes a "data:" line; an empty `data` is one empty "data:" line.
/// REQUIRES: `event` holds no line break.
std::string sse_message(std::string_view event, std::string_view data);

/// The field that sets the browser's reconnection delay.
std::string sse_retry(std::chrono::milliseconds delay);

/// A comment line: ignored by the browser, keeps proxies from timing out.
inline constexpr std::string_view sse_keepalive = ":\n\n";

}  // namespace scalekit::serve::web
