#pragma once
// HTTP(S) GETs with libcurl: the seed's aiohttp fetcher (chapter 5) and the
// download side of the URL thumbnailer.
//
//   fetch_all(urls, o, on_done)   many at once on one event loop: libcurl's multi
//                                 interface driven by Asio (sockets and timer),
//                                 on_done(i, r) as each finishes
//   fetch_one(url, o)             one, blocking, for worker threads
//
// Both follow redirects (as aiohttp does), decode gzip/deflate, speak only
// http and https, and bound the body. A transfer that gets no response
// (refused, no such host, timed out, body over the limit) has a non-OK
// `error`; any HTTP status, 404 included, is a response. A stop requested on
// fetch_options::stop abandons the transfers in flight at once.
//
// Thread safety: the functions may be called from any threads at once; each
// call owns its transfers.

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::net {

struct fetch_options {
  std::chrono::milliseconds timeout{60000};           ///< per request, from start to last byte
  std::size_t max_parallel = 64;                      ///< fetch_all: transfers at once (at least 1)
  std::uint64_t max_body = std::uint64_t{256} << 20;  ///< a larger body fails the request (too_large)
  bool keep_body = false;                             ///< false: only count the bytes
  long max_redirects = 10;
  /// A stop requested here ends the call promptly (a wake-up, not a poll):
  /// fetch_one's transfer ends with a `cancelled` error; fetch_all abandons
  /// its transfers and returns without calling on_done for the URLs not
  /// finished. Default: never stops.
  std::stop_token stop;
};

struct fetch_result {
  std::string url;           ///< as asked
  std::string final_url;     ///< after redirects
  long status = 0;           ///< HTTP status; 0 when there was no response
  std::uint64_t length = 0;  ///< body bytes, after content decoding
  std::string content_type;
  std::string body;        ///< when keep_body
  scalekit::status error;  ///< not OK: no response (the reason names what failed)
  std::chrono::nanoseconds elapsed{};
};

/// GET every URL, at most o.max_parallel at once, on an event loop run by the
/// calling thread; on_done(i, r) is called once per URL, in completion order,
/// from the calling thread. Returns when all are done, or at once after a stop
/// request on o.stop (URLs not finished by then get no on_done call).
void fetch_all(const std::vector<std::string>& urls, const fetch_options& o,
               const std::function<void(std::size_t index, fetch_result& r)>& on_done);

/// GET one URL, blocking the calling thread. Connections are kept per thread
/// and reused by its next calls (keep-alive). A stop requested on o.stop ends
/// the transfer at once with a `cancelled` error.
fetch_result fetch_one(const std::string& url, const fetch_options& o);

}  // namespace scalekit::net
