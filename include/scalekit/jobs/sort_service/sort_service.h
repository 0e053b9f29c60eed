#pragma once
// The sort service: the seed's asyncio "sort as a service" (chapter 14) on the
// core event loop, with the sorting on a core executor, never on the loop.
//
// Protocol (the seed's, so its Python client works unchanged): the client sends
// an 8-byte big-endian length and that many bytes of a JSON array of integers;
// the server replies with the sorted array as JSON ("[1, 2, 3]", Python's
// json.dumps spacing) and closes. A bad request gets {"error": "..."} and a
// close; the server keeps serving.

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "scalekit/core/executor.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::sort_service {

/// Parse a JSON array of integers (each fitting in 64 signed bits), sort it,
/// and return it as JSON. @throws std::invalid_argument naming the problem.
std::string sort_json(std::string_view body);

/// {"error": "<message>"} with the message JSON-escaped.
std::string error_json(std::string_view message);

inline constexpr const char* sort_task = "sort.json";
/// Register sort.json: payload a request body, result the reply (sorted array
/// or error object). Never fails as a task: a bad body is an error reply.
void register_tasks();

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2015;                          ///< 0: any free port (the log line says which)
  std::uint64_t max_bytes = std::uint64_t{64} << 20;  ///< larger declared lengths are refused unread
  std::chrono::milliseconds idle_timeout{10000};      ///< a connection silent this long is closed unanswered
  std::chrono::milliseconds read_timeout{10000};      ///< from the length to the body's last byte
  /// Serve until a stop is requested here (the stop signals, for the command line).
  std::stop_token stop;
};

struct server_stats {
  std::uint64_t connections = 0, sorted = 0, errors = 0, dropped = 0;
};

/// Serve until o.stop is requested. `log` gets one line per notable event
/// (listening address, errors). Returns the counts; fails when it cannot listen.
result<server_stats> serve(const server_options& o, core::executor& ex,
                           const std::function<void(const std::string&)>& log);

/// The client: send `body`, return the reply. Fails on connection errors.
result<std::string> call(const std::string& host, std::uint16_t port, std::string_view body,
                         std::chrono::milliseconds timeout);

}  // namespace scalekit::jobs::sort_service
