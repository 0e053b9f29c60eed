#pragma once
// Internal: serve's master, split by what it does: master.cc (the loop that
// acts on signals and the serve() entry), master_workers.cc (spawning,
// reaping, watching, recycling and replacing workers), master_reload.cc (HUP
// reloads, --preload's check, USR2 upgrades).

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "scalekit/core/job.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/serve.h"
#include "serve_detail.h"
#include "upgrade.h"

namespace scalekit::serve::detail {

inline constexpr std::int64_t heartbeat_limit_ns = 10'000'000'000;  // a worker's loop silent this long is stuck
inline constexpr std::int64_t ns_per_ms = 1'000'000;
// Recycling's floor: no worker is recycled (--max-requests, --max-rss,
// --max-lifetime) before it has run this long, and one recycled for RSS
// younger than rss_young_ns makes the next RSS recycle wait (1 s, 2 s, 4 s,
// ... up to rss_backoff_max_ns): a --max-rss below a fresh worker's size must
// not restart workers without pause.
inline constexpr std::int64_t recycle_floor_ns = 1'000'000'000;
inline constexpr std::int64_t rss_young_ns = 10'000'000'000;
inline constexpr std::int64_t rss_backoff_max_ns = 60'000'000'000;

/// "killed by signal 9 (Killed)", "exited with status 3".
std::string describe_wait_status(int st);
/// "1 worker", "3 workers": the master's log lines and systemd's status.
inline std::string workers_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " worker" : " workers"); }
/// Resident size of a process in MiB, from /proc (0 when it is gone).
std::uint64_t rss_mb(int pid);

// What the master asked of the signal thread's events, read by the loop.
struct requests {
  std::mutex mutex;
  std::condition_variable wake;
  // State below is protected by mutex.
  int reloads = 0, grow = 0, shrink = 0, upgrades = 0;
  bool quit = false, stop = false;
};

class master {
 public:
  master(const options& o, core::observer& obs, scoreboard board, std::vector<bound_socket> sockets,
         std::size_t workers, int ready_fd)
      : o_(o), obs_(obs), board_(std::move(board)), sockets_(std::move(sockets)), ready_fd_(ready_fd) {
    wanted_ = workers;
    procs_.resize(board_.capacity());
  }

  result<core::report> run();

 private:
  struct proc {
    int pid = 0;
    std::uint64_t generation = 0;
    std::int64_t started_ns = 0;
    bool stopping = false;               // we asked it to leave (SIGTERM)
    std::int64_t kill_at_ns = 0;         // SIGKILL if still alive then (0: never)
    std::optional<restart_cause> cause;  // why it is being replaced or was killed
    std::uint64_t request_limit = 0;     // this worker's --max-requests, jittered
    std::int64_t lifetime_ns = 0;        // this worker's --max-lifetime, jittered (0: none)
    bool timeout_reported = false;
  };
  // A worker being replaced: its successor starts first; the old one is told
  // to leave only when the new one accepts.
  struct replacement {
    std::uint32_t old_slot = 0, new_slot = 0;
    restart_cause cause = restart_cause::reload;
  };

  void log(const std::string& line) { obs_.message(line); }
  std::optional<std::uint32_t> free_slot() const;
  bool spawn(std::uint32_t slot);
  void tell_to_stop(std::uint32_t slot, std::chrono::milliseconds within);
  void reap();
  void watch();
  void start_replacement(std::uint32_t slot, restart_cause cause);
  void advance_replacement();
  std::optional<restart_cause> recycle_cause(std::uint32_t slot, std::int64_t now);
  void keep_count();
  void start_upgrade();
  void ask_reload();  // HUP: at once, or after --preload's check of the apps
  void begin_reload();
  void reload_done();   // the last worker of a HUP reload is replaced: systemd hears READY=1
  bool upgrade_done();  // the successor is ready: this master stops
  void stop_successor(int sig, const std::string& why);  // one not ready yet: it leaves, this one serves
  void on_all_ready();
  std::size_t live_workers() const;  // not stopping
  std::size_t all_workers() const;
  bool ready(std::uint32_t slot) const {
    return board_.slot(slot).state.load() == static_cast<std::uint32_t>(worker_state::ready);
  }

  const options& o_;
  core::observer& obs_;
  scoreboard board_;
  std::vector<bound_socket> sockets_;
  std::size_t wanted_;
  std::vector<proc> procs_;  // by slot
  std::optional<replacement> replacing_;
  std::vector<replacement> to_replace_;  // waiting for their turn (old_slot and cause only)
  std::uint64_t next_generation_ = 1, started_ = 0, requests_done_ = 0;
  std::uint64_t restarts_[static_cast<int>(restart_cause::count)]{};
  std::int64_t spawn_backoff_until_ns_ = 0;
  int quick_deaths_ = 0;
  std::int64_t rss_backoff_until_ns_ = 0;  // no RSS recycle before then
  int young_rss_recycles_ = 0;             // in a row, of workers younger than rss_young_ns
  bool rss_below_fresh_logged_ = false;
  std::mt19937_64 rng_{std::random_device{}()};
  requests req_;
  bool all_ready_logged_ = false;
  bool ever_ready_ = false;  // some worker has accepted: until then, dying workers mean a broken start
  int ready_fd_ = -1;        // started by an old master's USR2: tell it here once every worker accepts
  std::string exe_ = own_binary_path();
  std::optional<successor> successor_;  // USR2: the new master, from its start until this one exits or it is reaped
  std::string successor_end_;           // how it ended, when reaped before its pipe was read
  std::int64_t successor_due_ns_ = 0;   // not ready by then (--upgrade-timeout): told to stop
  std::int64_t successor_kill_ns_ = 0;  // told to stop and still there then: killed (0: not told yet)
  int check_pid_ = 0;                   // HUP with --preload: the process importing the apps
};

}  // namespace scalekit::serve::detail
