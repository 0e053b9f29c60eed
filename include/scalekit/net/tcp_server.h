#pragma once
// The accept side shared by scalekit's TCP services (sort-service, the HTTP
// server): listen, log "listening on HOST:PORT", run one coroutine per
// connection on one event-loop thread, until a stop is requested.

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "scalekit/core/async.h"
#include "scalekit/core/status.h"

namespace scalekit::net {

using connection_handler = std::function<core::task<void>(asio::ip::tcp::socket)>;

/// Serve on host:port (port 0: any free port) until `stop` is requested.
/// `on_connection` runs once per accepted socket; an exception it throws is
/// logged and costs only that connection. Fails when it cannot listen.
status run_tcp_server(const std::string& host, std::uint16_t port, const connection_handler& on_connection,
                      const std::function<void(const std::string&)>& log, std::stop_token stop);

}  // namespace scalekit::net
