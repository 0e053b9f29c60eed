#pragma once
// scalekit serve: a pre-fork HTTP/1.1 server with a supervising master.
//
//   master (no Python) ── owns the listening sockets, the scoreboard and the
//     │                    signals; spawns workers by exec, never by fork
//     ├── worker 0 ── event loop (HTTP) ─┬─ native endpoints on an executor
//     ├── worker 1                       └─ WSGI apps on --threads threads
//     └── ...       each writes its slot of the scoreboard (shared memory):
//                   heartbeat, requests running, counters
//
// The master watches the scoreboard: a worker that dies is replaced (cause:
// crash), one whose loop stops beating is killed and replaced (heartbeat), one
// that served --max-requests, outgrew --max-rss or outlived --max-lifetime is
// recycled — one at a time, the replacement accepting before the old one stops.
// Signals to the master: TERM/INT stop gracefully within --grace; QUIT stops
// at once; HUP reloads (new workers, then the old ones leave); TTIN/TTOU add or
// remove a worker; USR2 starts a new master from the binary on disk on the same
// listening sockets, and this one stops gracefully once every new worker
// accepts (or keeps serving when the new one fails or is not ready within
// --upgrade-timeout: src/serve/upgrade.h).
//
// Thread safety: serve() runs the master in the calling thread; one call per process.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::serve {

/// What `ps -o args` shows for the master: its argv[0], given when it is
/// exec'd (by `scalekit`, or by the old master at USR2). Workers show
/// "scalekit serve: worker SLOT"; `ps -o comm` says "serve master", "serve worker SLOT".
inline constexpr const char* master_process_title = "scalekit serve: master";

/// A WSGI application and where it is mounted.
struct app_mount {
  std::string spec;          ///< MODULE:CALLABLE
  std::string prefix = "/";  ///< requests under it go to the app (SCRIPT_NAME)
};

struct options {
  std::vector<std::string> listen{"127.0.0.1:8080"};  ///< HOST:PORT each (port 0: any free one, logged)
  std::size_t workers = 0;                            ///< 0: one per core
  std::size_t threads = 4;                            ///< per worker, for blocking application work
  std::vector<app_mount> apps;
  std::string chdir, pythonpath;
  /// A request running longer is answered 504 and its worker replaced (0: no limit).
  std::chrono::milliseconds timeout{30000};
  /// How long a stopping worker may take to finish its requests.
  std::chrono::milliseconds grace{30000};
  /// How long a new master (USR2) may take until every one of its workers
  /// accepts; then it is stopped and this one keeps serving.
  std::chrono::milliseconds upgrade_timeout{60000};
  std::uint64_t max_requests = 0;                    ///< recycle a worker after about this many (0: never)
  std::uint64_t max_requests_jitter = 0;             ///< plus 0..jitter, so workers do not all recycle together
  std::uint64_t max_rss_mb = 0;                      ///< recycle a worker above this resident size (0: never)
  std::chrono::milliseconds max_lifetime{0};         ///< recycle a worker this old (0: never)
  std::chrono::milliseconds max_lifetime_jitter{0};  ///< plus 0..jitter, so workers do not all recycle together
  std::uint64_t max_body = std::uint64_t{16} << 20;  ///< larger request bodies: 413
  std::size_t cache_mb = 64;  ///< each worker's cache of job answers (tiles, primes), in MiB (0: none)
  std::size_t queue = 64;     ///< requests a worker holds waiting for a thread; past that, 503
  /// How long a request may wait for a thread: then 503 (or --degrade's
  /// answer) instead of running late; a tenth of it while the queue has not
  /// been empty for this long (a standing queue: overload). 0: no limit.
  /// Shorter waits shed sooner under a burst; longer ones keep slow work.
  std::chrono::milliseconds queue_wait{1000};
  /// --cache redis://HOST:PORT[/DB]: job answers shared in Redis behind each worker's cache (empty: none),
  /// each kept cache_ttl seconds. An unreachable Redis costs a miss, never a request.
  std::string cache;
  std::uint32_t cache_ttl = 300;
  /// Past the queue, answer from a cache or with a coarser tile (X-Degraded) instead of 503.
  bool degrade = false;
  /// POST /thumbnail: the program whose worker processes make the thumbnails
  /// (libvips stays out of serve). Empty: scalekit-thumbnail beside this
  /// program, built or installed.
  std::string thumbnailer;
  /// Native jobs' executor in each worker: "threads" (default), "serial",
  /// "processes", "openmp", or "distributed": the Celery workers of `broker`.
  std::string executor = "threads";
  std::size_t jobs = 0;  ///< its workers (0: one per core; distributed: the live workers' slots)
  /// redis://... of the distributed workers (`scalekit worker`); empty: none.
  /// With it, /fleet shows them and a tile may ask for &executor=distributed.
  std::string broker;
  std::string broker_queue = "celery";  ///< the queue they consume
  /// How long a request waits for the distributed workers' results: then 504
  /// (503 when none is alive or the broker does not answer).
  std::chrono::milliseconds broker_timeout{10000};
  /// Tasks a worker may have published that the broker has not taken yet (a
  /// paused Redis), and at most broker_backlog_bytes of them: past either, a
  /// request that needs the distributed workers gets 503 at once (0: no bound).
  std::size_t broker_backlog = 1024;
  static constexpr std::size_t broker_backlog_bytes = std::size_t{64} << 20;
  /// Where the master writes its pid ("": nowhere); removed at the end while
  /// it names this master. After USR2 the new master writes its own once ready.
  std::string pid_file;
  /// Import the --wsgi apps once, in a process of their own, before any worker
  /// starts: an app that cannot be loaded stops the start with invalid_argument
  /// (exit status 2) instead of workers dying one after another.
  bool preload = false;
  /// How to start a worker: this program's own command line (the worker
  /// re-parses it); set by the command line.
  std::vector<std::string> self_argv;
};

/// Run the master until a stop is requested (or QUIT): bind, spawn and
/// supervise the workers, then stop them gracefully. Fails when it cannot
/// listen (io_error) or the options are bad (invalid_argument). The report
/// counts requests, workers started and restarts by cause.
result<core::report> serve(const options& o, core::observer& obs);

/// When this process was started as a worker by a master (the environment
/// says so), run the worker and return its report; nullopt otherwise.
std::optional<result<core::report>> run_worker_if_started(const options& o, core::observer& obs);

}  // namespace scalekit::serve
