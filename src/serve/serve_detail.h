#pragma once
// What serve's master and workers share besides the scoreboard: how a worker
// learns who it is, and the listening sockets.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"
#include "scalekit/serve/serve.h"

namespace scalekit::serve {

/// The environment variable that makes a process a worker:
/// "<slot>:<generation>:<listening sockets>:<master pid>"; the sockets are at
/// descriptors 3, 4, ... and the scoreboard right after them.
inline constexpr const char* worker_env_name = "SCALEKIT_SERVE_WORKER";

/// argv[0] of a worker, so that `ps` tells the processes apart (the master's:
/// serve.h, master_process_title): "scalekit serve: worker 3".
std::string worker_process_title(std::uint32_t slot);
/// argv[0] of --preload's check of the apps.
inline constexpr const char* app_check_process_title = "scalekit serve: app check";
/// Names the calling thread, and so the process when it is the main thread
/// (`ps -o comm`, top): "serve master", "serve worker 3" (kernel's bound: 15 bytes).
void name_this_process(std::string_view name) noexcept;
/// The master's name (name_this_process), by which a pidfile's pid is known as one.
inline constexpr std::string_view master_process_name = "serve master";
/// The name of worker `slot`'s process, within those 15 bytes.
std::string worker_process_name(std::uint32_t slot);

struct bound_socket {
  int fd = -1;       ///< listening, close-on-exec, numbered above the workers' fixed ones
  std::string name;  ///< "HOST:PORT" as bound (the real port when 0 was asked)
};

/// Take over the listening socket inherited at `fd`: moved above the workers'
/// descriptors, close-on-exec, named. fd is -1 in the result when it cannot be.
bound_socket adopt_socket(int fd);

/// Listen on every HOST:PORT (backlog 1024, or the system's somaxconn if
/// smaller), or adopt the sockets systemd passed (LISTEN_FDS for this pid).
/// invalid_argument for a malformed address, io_error when one cannot be bound
/// (the others are closed then).
result<std::vector<bound_socket>> bind_all(const std::vector<std::string>& specs);

/// How many connections a worker serves at once (net's default, 512), and
/// the descriptor limit for it: a connection refused at the bound holds a
/// descriptor while it closes, so 2 x 512 and a reserve. The soft
/// RLIMIT_NOFILE is raised toward the hard one as far as needed (the workers
/// inherit it from the master); when that is still short, the bound shrinks
/// to what fits and `warning` says so (the master logs it, once). The master
/// alone calls it; its workers take max_connections from the scoreboard
/// (scoreboard_header::worker_connections), so the two cannot disagree.
struct descriptor_budget {
  std::size_t max_connections = 0;
  std::string warning;  ///< "" when the bound fits
};
descriptor_budget fit_descriptor_limit();

/// In a worker: the server's own descriptors (its listening sockets 3, 4, ...
/// and the scoreboard after them) close on exec, and in every child a fork
/// makes (an application's os.fork, multiprocessing), so that a child that
/// lives on does not keep the port taken after the server stops. A
/// descriptor is closed in the child only while it is still a listening
/// socket or the scoreboard (at most 16 listening sockets are kept).
void close_server_fds_in_children(const std::vector<int>& listening, int board_fd);

/// --preload (preload.cc): start a process that imports every --wsgi app and
/// exits 0 when they all load (else non-zero, the error on stderr). Returns its pid.
result<int> spawn_app_check(const options& o);
/// The same, waited for: invalid_argument when an app cannot be loaded.
status check_apps(const options& o);
/// In the process spawn_app_check started: import the apps, and return the
/// outcome; nullopt in any other process.
std::optional<result<core::report>> run_app_check_if_started(const options& o, core::observer& obs);

}  // namespace scalekit::serve
