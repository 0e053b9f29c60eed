#pragma once
// The checks of serve's flags that CLI11 has no validator for.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scalekit/serve/serve.h"

namespace scalekit::cli {

/// Each ':'-separated part of a path list (--pythonpath) names a directory that exists.
CLI::Validator existing_directories();

/// A redis:// URL the task queue's client accepts (--broker, --cache).
CLI::Validator redis_url();

/// --max-requests plus its jitter fit in 64 bits (else usage_error).
void check_request_limit(std::uint64_t max_requests, std::uint64_t jitter);

/// The master's checks before it binds (usage_error): check_request_limit, no
/// --listen address given twice (port 0, any free port, may be), and a --pid
/// file the master can write (its directory exists and is writable).
void check_master(const serve::options& o);

/// Seconds given on the command line as whole milliseconds, to the nearest, but
/// 1 ms at least for a positive value: a limit of 0.0004 s is 1 ms, not 0
/// (which the flags read as "no limit").
std::chrono::milliseconds whole_ms(double seconds);

/// Waits that must end before --timeout (`timeout_s`; 0: none) does: `seconds`
/// when given, which must then be under it (else usage_error), or by default
/// `seconds` (10 s, 1 s) or half of a shorter --timeout.
/// --broker-timeout: how long a request waits for the broker's workers (past
/// --timeout a broker outage would end in a 504 and a replaced worker, not a 503).
std::chrono::milliseconds broker_wait(double seconds, bool given, double timeout_s);
/// --queue-wait: how long a request may wait for a thread (past --timeout it would never shed).
/// `seconds` <= 0 (not given, or 0; the default): no limit, 0 ms.
std::chrono::milliseconds queue_wait(double seconds, double timeout_s);

/// The end of `serve --help`: the endpoints and the master's signals (serve_help.cc).
std::string serve_footer();

/// The --wsgi apps with their prefixes. `order` has 'w' for each --wsgi and 'm'
/// for each --mount, in the command line's order: each --mount belongs to the
/// app just before it (the others serve /). A --mount with no app before it, a
/// second one for an app, two apps on one prefix, or an app or mount that is
/// malformed (wsgi::check_spec) are bad usage (usage_error).
std::vector<serve::app_mount> pair_apps(const std::vector<std::string>& wsgi, const std::vector<std::string>& mounts,
                                        const std::string& order);

}  // namespace scalekit::cli
