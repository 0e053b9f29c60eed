#pragma once
// What serve's master and workers share besides the scoreboard: how a worker
// learns who it is, and the listening sockets.

#include <string>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::serve {

/// The environment variable that makes a process a worker:
/// "<slot>:<generation>:<listening sockets>:<master pid>"; the sockets are at
/// descriptors 3, 4, ... and the scoreboard right after them.
inline constexpr const char* worker_env_name = "SCALEKIT_SERVE_WORKER";

struct bound_socket {
  int fd = -1;       ///< listening, close-on-exec, numbered above the workers' fixed ones
  std::string name;  ///< "HOST:PORT" as bound (the real port when 0 was asked)
};

/// Listen on every HOST:PORT (backlog 1024, or the system's somaxconn if
/// smaller), or adopt the sockets systemd passed (LISTEN_FDS for this pid).
/// invalid_argument for a malformed address, io_error when one cannot be bound
/// (the others are closed then).
result<std::vector<bound_socket>> bind_all(const std::vector<std::string>& specs);

}  // namespace scalekit::serve
