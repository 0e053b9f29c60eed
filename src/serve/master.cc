// serve's master: the loop that acts on what signals asked (master_detail.h)
// and the serve() entry: sockets bound or adopted, the scoreboard, the master.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <systemd/sd-daemon.h>

#include "master_detail.h"
#include "scalekit/core/signals.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/serve.h"

extern char** environ;

namespace scalekit::serve::detail {

using namespace std::chrono_literals;

std::string describe_wait_status(int st) {
  if (WIFSIGNALED(st)) return "killed by signal " + std::to_string(WTERMSIG(st)) + " (" + strsignal(WTERMSIG(st)) + ")";
  if (WIFEXITED(st)) return "exited with status " + std::to_string(WEXITSTATUS(st));
  return "ended";
}

// Resident size of a process in MiB, from /proc (0 when it is gone).
std::uint64_t rss_mb(int pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) >> 20;
}

result<core::report> master::run() {
  const auto t0 = std::chrono::steady_clock::now();
  auto& signals = core::stop_signals::install();
  // The signal thread only records what was asked; the loop acts on it. It
  // notifies under the lock: the loop may see a QUIT, return and destroy
  // req_ as soon as it can take the mutex, and a notify after the unlock
  // would touch the destroyed condition variable (TSan saw it).
  const auto ask = [this](auto&& change) {
    std::scoped_lock lock(req_.mutex);
    change();
    req_.wake.notify_all();
  };
  signals.on(SIGHUP, [&] { ask([&] { ++req_.reloads; }); });
  signals.on(SIGTTIN, [&] { ask([&] { ++req_.grow; }); });
  signals.on(SIGTTOU, [&] { ask([&] { ++req_.shrink; }); });
  signals.on(SIGQUIT, [&] { ask([&] { req_.quit = true; }); });
  // Ctrl-C stops gracefully, a second one at once (as QUIT).
  signals.on(SIGINT, [&] {
    if (signals.token().stop_requested()) {
      ask([&] { req_.quit = true; });
    } else {
      signals.request_stop(SIGINT);
    }
  });
  signals.on(SIGUSR2, [&] { ask([&] { ++req_.upgrades; }); });
  // The handlers above refer to this frame and to req_: a signal after run()
  // returns (a HUP while the process exits) must not call them, and on()
  // waits for one that is running.
  struct release_handlers {
    core::stop_signals& signals;
    ~release_handlers() {
      for (int sig : {SIGHUP, SIGTTIN, SIGTTOU, SIGQUIT, SIGUSR2, SIGINT}) signals.on(sig, {});
    }
  } const released{signals};
  const std::stop_callback on_stop(obs_.stop_token(), [&] { ask([&] { req_.stop = true; }); });

  board_.header().workers_wanted.store(static_cast<std::uint32_t>(wanted_));
  keep_count();
  bool stopping = false, quitting = false;
  std::int64_t stop_deadline = 0;
  // Workers that take long to start (an app that imports for seconds) are said once, not left silent.
  const std::int64_t slow_start_at = monotonic_ns() + std::chrono::nanoseconds(5s).count();
  // A HUP waits for the start at most this long: a start that hangs (an import
  // that never returns) is then replaced by the reload, with the code fixed since.
  const std::int64_t start_wait_ends = monotonic_ns() + std::chrono::nanoseconds(o_.upgrade_timeout).count();
  bool slow_start_logged = false, reload_wait_logged = false;
  for (;;) {
    {
      std::unique_lock lock(req_.mutex);
      req_.wake.wait_for(lock, 100ms);
      if (req_.quit && !quitting) {
        quitting = true;
        log("QUIT: stopping every worker now");
        stop_successor(SIGQUIT, "is not ready yet and this master quits: it quits too");
        sd_notify(0, "STOPPING=1");
        for (auto& p : procs_)
          if (p.pid != 0) ::kill(p.pid, SIGKILL);
      }
      if (req_.stop && !stopping) {
        stopping = true;
        stop_deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(o_.grace).count();
        log(fmt::format("stopping: workers finish their requests (grace {:g} s)", o_.grace.count() / 1000.0));
        // Else a new master still starting would keep the sockets, serving on alone.
        stop_successor(SIGTERM, "is not ready yet and this master stops: it is told to stop too");
        sd_notify(0, "STOPPING=1\nSTATUS=stopping");
      }
      if (!stopping && !quitting) {
        // A reload waits (kept in req_.reloads) during the start, where it would
        // replace workers not yet ready and the start (READY=1) would end only
        // after it (but not past --upgrade-timeout), and during an upgrade, whose
        // new master loads the apps afresh (this one stops when it succeeds; if
        // it fails, the reload follows).
        const bool upgrading = successor_ && successor_->ready_fd >= 0;
        const bool starting = !all_ready_logged_ && monotonic_ns() < start_wait_ends;
        if (req_.reloads > 0 && (starting || upgrading)) {
          if (!reload_wait_logged)
            log(upgrading ? "HUP: an upgrade is under way (new master pid " + std::to_string(successor_->pid) +
                                "), whose workers load the apps afresh: a reload follows only if it fails"
                          : fmt::format("HUP: a reload waits until the start is done (at most {:g} s from the "
                                        "start, --upgrade-timeout)",
                                        static_cast<double>(o_.upgrade_timeout.count()) / 1000));
          reload_wait_logged = true;
        } else if (req_.reloads > 0) {
          req_.reloads = 0;
          reload_wait_logged = false;
          ask_reload();
        }
        // The scoreboard's slots are fixed at start: past them a TTIN was taken and
        // no worker started, and with no slot left for a successor a HUP never ended.
        const std::size_t most = board_.capacity() - 1, asked = wanted_ + static_cast<std::size_t>(req_.grow);
        const std::size_t was = wanted_;
        const bool resized = req_.grow > 0 || req_.shrink > 0;
        if (asked > most)
          log(fmt::format("TTIN: {} workers is the most this master runs (a slot stays free for a successor)", most));
        wanted_ = std::min(most, asked);
        for (; req_.shrink > 0; --req_.shrink)
          if (wanted_ > 1) --wanted_;
        req_.grow = 0;
        if (resized && wanted_ != was) {
          log(fmt::format("{}: {} wanted (were {})", wanted_ > was ? "TTIN" : "TTOU", workers_text(wanted_), was));
        } else if (resized && wanted_ == 1) {
          log("TTOU: one worker is the fewest this master runs");
        }
        board_.header().workers_wanted.store(static_cast<std::uint32_t>(wanted_));
        if (req_.upgrades > 0) {
          req_.upgrades = 0;
          start_upgrade();
        }
      }
    }
    reap();
    if (!stopping && !quitting && upgrade_done()) {
      stopping = true;  // as TERM does: the workers finish their requests, the sockets stay with the new master
      stop_deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(o_.grace).count();
      sd_notify(0, "STATUS=upgraded: the old master stops");
    }
    if (stopping || quitting) {
      for (std::uint32_t i = 0; i < procs_.size(); ++i)
        if (procs_[i].pid != 0 && !procs_[i].stopping) tell_to_stop(i, o_.grace);
      if (all_workers() == 0) break;
      if (monotonic_ns() >= stop_deadline)
        for (auto& p : procs_)
          if (p.pid != 0) ::kill(p.pid, SIGKILL);
      continue;
    }
    if (!ever_ready_ && quick_deaths_ >= 3) {
      log("workers fail to start (see above): stopping");
      return status::io_error("workers fail to start");
    }
    watch();
    advance_replacement();
    keep_count();
    for (std::uint32_t i = 0; i < procs_.size() && !ever_ready_; ++i) ever_ready_ = procs_[i].pid != 0 && ready(i);
    if (!all_ready_logged_ && !slow_start_logged && monotonic_ns() >= slow_start_at) {
      slow_start_logged = true;
      std::size_t ready_now = 0, starting = 0;
      for (std::uint32_t i = 0; i < procs_.size(); ++i)
        if (procs_[i].pid != 0 && !procs_[i].stopping) ++(ready(i) ? ready_now : starting);
      log(fmt::format("{} of {} workers ready after 5 s, {} starting (importing their apps?)", ready_now, wanted_,
                      starting));
    }
    if (!all_ready_logged_ && live_workers() == wanted_ &&
        std::all_of(procs_.begin(), procs_.end(), [&](const proc& p) {
          return p.pid == 0 || p.stopping || ready(static_cast<std::uint32_t>(&p - procs_.data()));
        })) {
      all_ready_logged_ = true;
      on_all_ready();
    }
  }

  core::report r("serve");
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(requests_done_);
  r.unit = "requests";
  r.work = std::to_string(requests_done_) + " requests";
  r.add("requests", requests_done_, "");
  r.add("workers_started", started_, "{} workers started");
  std::vector<core::report_record> by_cause;
  std::string text;
  for (int c = 0; c < static_cast<int>(restart_cause::count); ++c) {
    if (restarts_[c] == 0) continue;
    const std::string name(to_string(static_cast<restart_cause>(c)));
    by_cause.push_back({{"cause", name, ""}, {"count", restarts_[c], ""}});
    text += (text.empty() ? "" : ", ") + std::to_string(restarts_[c]) + " " + name;
  }
  r.add("restarts", std::move(by_cause), text.empty() ? "" : "restarts: " + text);
  return r;
}

}  // namespace scalekit::serve::detail

namespace scalekit::serve {

using detail::master;

result<core::report> serve(const options& o, core::observer& obs) {
  if (o.self_argv.empty()) return status::invalid_argument("serve: the worker command line is missing");
  if (o.threads == 0) return status::invalid_argument("--threads must be at least 1");
  name_this_process(master_process_name);  // argv[0] is given at exec: master_process_title
  // Before any worker starts: they inherit the limit, and take the bound from the scoreboard.
  const descriptor_budget budget = fit_descriptor_limit();
  if (!budget.warning.empty()) obs.message(budget.warning);
  auto handed = adopt_handoff();
  if (!handed.ok()) return handed.error();
  std::optional<handoff> from_old = std::move(handed).value();
  if (!o.pid_file.empty() && !from_old) {  // after USR2 the old master's is this one's to take
    if (auto s = check_pid_file_free(o.pid_file); !s.ok()) return s;
  }
  if (o.preload && !o.apps.empty()) {
    if (auto s = check_apps(o); !s.ok()) return s;  // after USR2: the old master sees this one end, and stays
    obs.message("--preload: the WSGI apps load");
  }
  auto sockets = from_old ? result<std::vector<bound_socket>>(std::move(from_old->sockets)) : bind_all(o.listen);
  if (!sockets.ok()) return sockets.error();
  for (const auto& s : *sockets)
    obs.message("listening on " + s.name +
                (from_old ? " (from the old master, pid " + std::to_string(from_old->old_master) + ")" : ""));
  // A fresh start names itself at once; a new master after USR2 once it is ready (master::on_all_ready).
  if (!o.pid_file.empty() && !from_old) {
    if (auto s = write_pid_file(o.pid_file); !s.ok()) return s;
  }
  // After USR2, as many as the old master had (TTIN and TTOU included), whatever the command line says.
  const std::size_t workers = from_old         ? from_old->workers
                              : o.workers == 0 ? std::max(1u, std::thread::hardware_concurrency())
                                               : o.workers;
  // Room for every worker twice (each may have a successor starting), and for TTIN.
  auto board = scoreboard::create(static_cast<std::uint32_t>(std::min<std::size_t>(1024, workers * 2 + 16)));
  if (!board.ok()) return board.error();
  board->header().worker_connections.store(static_cast<std::uint32_t>(budget.max_connections));
  master m(o, obs, std::move(board).value(), std::move(sockets).value(), workers, from_old ? from_old->ready_fd : -1);
  auto r = m.run();
  if (!o.pid_file.empty()) remove_pid_file(o.pid_file);
  return r;
}

}  // namespace scalekit::serve
