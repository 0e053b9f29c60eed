#pragma once
// The fetch job: the seed's aiohttp fetcher (chapter 5). Every URL is fetched
// at once (up to a limit) on one event loop (net::fetch_all: libcurl driven by
// Asio), and each response is one output line as it finishes:
//
//   Response for URL <url> => <status> <length>
//
// <length> is the body's size after content decoding; redirects are followed
// and the line names the URL as given. A URL that gets no response (refused,
// no such host, timed out) is a message and a failure, not a line.
//
// No executor: the work is waiting on sockets, which one event-loop thread
// does for thousands of transfers; the concurrency is max_parallel.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::fetch {

struct options {
  std::vector<std::string> urls;             ///< http:// or https://; others fail as items
  std::chrono::milliseconds timeout{60000};  ///< per request, from start to last byte (> 0)
  std::size_t max_parallel = 64;             ///< transfers at once (>= 1); I/O-bound, so more than the cores
  bool fail_on_http_error = false;           ///< a response with HTTP status >= 400 counts as a failure too
};

/// GET every URL of o.urls; one output line per response, in completion
/// order; one message "<url>: <reason>" per URL that got none. Progress in
/// URLs. Returns invalid_argument for a timeout or max_parallel out of range,
/// or cancelled when a stop is requested before every URL is done (the
/// transfers still running are abandoned at once). The report: responses,
/// failed (no response), http_errors (status >= 400), bytes, the URL rate, and
/// `results`, one record per URL in completion order: url, elapsed_s, and
/// status, length and final_url, or error. failures: the URLs with no
/// response, plus those with status >= 400 when o.fail_on_http_error.
/// Thread safety: calls may run at once, each on its own loop.
result<core::report> run(const options& o, core::observer& obs);

}  // namespace scalekit::jobs::fetch
