// The descriptor limit a worker needs for its connection bound
// (serve_detail.h: fit_descriptor_limit).
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "scalekit/net/http_server.h"
#include "serve_detail.h"

namespace scalekit::serve {

namespace {

// What a worker holds besides its connections: the listening sockets, the
// scoreboard, the event loop's, the application threads' and Python's own
// descriptors, a file being sent. A worker with a Flask app holds 8 at rest;
// the rest is for the apps' own files and sockets.
constexpr std::size_t reserved_fds = 64;

}  // namespace

descriptor_budget fit_descriptor_limit() {
  const std::size_t wanted = net::http_server_options{}.max_connections;
  // A connection refused at the bound is closed gracefully, so it holds a descriptor a while too.
  const rlim_t need = static_cast<rlim_t>(2 * wanted + reserved_fds);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return {wanted, {}};
  std::string why;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      rl = raised;
    else
      why = std::string(" (raising it: ") + std::strerror(errno) + ")";
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need) return {wanted, {}};
  const std::size_t room = static_cast<std::size_t>(rl.rlim_cur);
  const std::size_t fit = std::max<std::size_t>(1, room > reserved_fds ? (room - reserved_fds) / 2 : 0);
  return {fit, "the descriptor limit is " + std::to_string(room) + why + " and " + std::to_string(need) +
                   " would serve " + std::to_string(wanted) + " connections at once: each worker serves at most " +
                   std::to_string(fit) + " (raise it: ulimit -n, or LimitNOFILE= in the unit)"};
}

}  // namespace scalekit::serve
