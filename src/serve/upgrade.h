#pragma once
// USR2, the blue-green upgrade of serve's master itself, and the pidfile.
//
//   old master ── USR2 ──> posix_spawn(the binary on disk, same arguments)
//     │   listening sockets at 3, 4, ...; a pipe's write end after them;
//     │   SCALEKIT_SERVE_UPGRADE="<sockets>:<old master pid>"
//     │                                     new master: adopts the sockets (binds nothing),
//     │                                       starts its workers; once every one accepts,
//     │                                       writes its pid to --pid FILE and a byte to the pipe
//     ├── the byte: MAINPID to systemd, then the graceful stop (workers finish within --grace)
//     └── end of file without it (the new master failed): log it, keep serving
//
// The listening sockets never close: the kernel keeps queueing connections
// while both masters' workers accept, so no client is refused during the switch.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "scalekit/core/status.h"
#include "serve_detail.h"

namespace scalekit::serve {

/// "<listening sockets>:<old master pid>:<workers>": this master was started by
/// an old one's USR2, which had <workers> (TTIN and TTOU included). The sockets
/// are at 3, 4, ..., the readiness pipe right after.
inline constexpr const char* upgrade_env_name = "SCALEKIT_SERVE_UPGRADE";

/// What an old master handed to this one.
struct handoff {
  std::vector<bound_socket> sockets;
  int ready_fd = -1;  ///< write one byte, then close, when every worker accepts
  int old_master = 0;
  std::size_t workers = 0;  ///< as many as the old master had
};

/// In a master started by USR2: the sockets and the pipe the old master
/// passed (moved above the workers' descriptors, close-on-exec), the variable
/// removed from the environment. nullopt when this is a fresh start; io_error
/// when the variable is there but the descriptors are not.
result<std::optional<handoff>> adopt_handoff();

/// A new master starting, as its old master sees it.
struct successor {
  int pid = 0;
  int ready_fd = -1;  ///< the pipe's read end, non-blocking
};

/// Start the new master: `exe` with `argv`, this process's environment plus
/// upgrade_env_name, `sockets` at 3, 4, ..., to run `workers` workers. io_error
/// when it cannot be started.
result<successor> spawn_successor(const std::string& exe, const std::vector<std::string>& argv,
                                  const std::vector<bound_socket>& sockets, std::size_t workers);

enum class successor_news { none, ready, failed };
/// What the pipe says now: a byte (ready), end of file (it exited before it
/// was ready), or nothing yet. Does not block.
successor_news poll_successor(const successor& s);

/// The path of this program's binary on disk, read when the master starts:
/// an upgrade re-executes whatever file is at that path then.
std::string own_binary_path();

/// `--pid FILE`: the master's pid, one line, replaced atomically (a temporary
/// file renamed over it). remove_pid_file removes it only while it still names
/// this process (after an upgrade it names the new master). Failures are
/// returned (write) or ignored (remove).
status write_pid_file(const std::string& path);
void remove_pid_file(const std::string& path);
/// invalid_argument when `path` names another running master ("serve
/// master" its name): a fresh start would take its pidfile over, and this
/// one's exit delete it under the other. A stale file (a pid gone or reused by
/// another program) is no obstacle.
status check_pid_file_free(const std::string& path);

}  // namespace scalekit::serve
