// serve's master: listening sockets, the scoreboard, and a supervision loop
// that spawns, watches, recycles and replaces the worker processes.

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

#include "scalekit/core/signals.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/serve.h"
#include "serve_detail.h"
#include "upgrade.h"

extern char** environ;

namespace scalekit::serve {

namespace {

using namespace std::chrono_literals;

constexpr std::int64_t heartbeat_limit_ns = 10'000'000'000;  // a worker's loop silent this long is stuck
constexpr std::int64_t ns_per_ms = 1'000'000;

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
  void keep_count();
  void start_upgrade();
  void ask_reload();  // HUP: at once, or after --preload's check of the apps
  void begin_reload();
  bool upgrade_done();  // the successor is ready: this master stops
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
  std::mt19937_64 rng_{std::random_device{}()};
  requests req_;
  bool all_ready_logged_ = false;
  bool ever_ready_ = false;  // some worker has accepted: until then, dying workers mean a broken start
  int ready_fd_ = -1;        // started by an old master's USR2: tell it here once every worker accepts
  std::string exe_ = own_binary_path();
  std::optional<successor> successor_;  // USR2: the new master, from its start until this one exits or it is reaped
  std::string successor_end_;           // how it ended, when reaped before its pipe was read
  int check_pid_ = 0;                   // HUP with --preload: the process importing the apps
};

std::optional<std::uint32_t> master::free_slot() const {
  for (std::uint32_t i = 0; i < procs_.size(); ++i)
    if (procs_[i].pid == 0) return i;
  return std::nullopt;
}

std::size_t master::live_workers() const {
  // A worker being replaced counts as gone already: its successor takes its place.
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < procs_.size(); ++i)
    if (procs_[i].pid != 0 && !procs_[i].stopping && !(replacing_ && replacing_->old_slot == i)) ++n;
  return n;
}

std::size_t master::all_workers() const {
  return static_cast<std::size_t>(
      std::count_if(procs_.begin(), procs_.end(), [](const proc& p) { return p.pid != 0; }));
}

bool master::spawn(std::uint32_t slot) {
  worker_slot& s = board_.slot(slot);
  proc& p = procs_[slot];
  p = proc{};
  p.generation = next_generation_++;
  p.started_ns = monotonic_ns();
  if (o_.max_requests > 0) {
    std::uniform_int_distribution<std::uint64_t> jitter(0, o_.max_requests_jitter);
    p.request_limit = o_.max_requests + jitter(rng_);
  }
  // The slot starts clean for its new process.
  s.requests.store(0);
  s.in_flight.store(0);
  s.queued.store(0);
  s.heartbeat_ns.store(p.started_ns);
  s.started_ns.store(p.started_ns);
  s.generation.store(p.generation);
  s.state.store(static_cast<std::uint32_t>(worker_state::starting));

  // The worker sees its listening sockets at 3, 4, ... and the scoreboard after them.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int fd = 3;
  for (const auto& sock : sockets_) posix_spawn_file_actions_adddup2(&fa, sock.fd, fd++);
  posix_spawn_file_actions_adddup2(&fa, board_.fd(), fd++);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&fa, fd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, worker_env_name, std::strlen(worker_env_name)) != 0) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(worker_env_name) + "=" + std::to_string(slot) + ":" + std::to_string(p.generation) +
                        ":" + std::to_string(sockets_.size()) + ":" + std::to_string(::getpid()));
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = o_.self_argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    s.state.store(static_cast<std::uint32_t>(worker_state::empty));
    p = proc{};
    log(std::string("cannot start a worker: ") + std::strerror(rc));
    return false;
  }
  p.pid = pid;
  s.pid.store(pid);
  ++started_;
  return true;
}

void master::tell_to_stop(std::uint32_t slot, std::chrono::milliseconds within) {
  proc& p = procs_[slot];
  if (p.pid == 0) return;
  if (!p.stopping) ::kill(p.pid, SIGTERM);
  p.stopping = true;
  const std::int64_t deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(within).count();
  p.kill_at_ns = p.kill_at_ns == 0 ? deadline : std::min(p.kill_at_ns, deadline);
  board_.slot(slot).state.store(static_cast<std::uint32_t>(worker_state::stopping));
}

void master::reap() {
  for (;;) {
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    const auto it = std::find_if(procs_.begin(), procs_.end(), [&](const proc& p) { return p.pid == pid; });
    if (successor_ && pid == successor_->pid) {
      if (successor_->ready_fd >= 0) {  // its pipe, read next, says the rest
        successor_end_ = describe_wait_status(st);
      } else {
        log("upgrade: the new master (pid " + std::to_string(pid) + ") " + describe_wait_status(st));
        successor_.reset();
      }
      continue;
    }
    if (pid == check_pid_) {
      check_pid_ = 0;
      if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        begin_reload();
      } else {
        log("reload refused: the WSGI apps cannot be loaded (the error is above); the workers keep their code");
        sd_notify(0, "READY=1\nSTATUS=reload refused");
      }
      continue;
    }
    if (it == procs_.end()) continue;  // not a worker of ours
    const auto slot = static_cast<std::uint32_t>(it - procs_.begin());
    worker_slot& s = board_.slot(slot);
    requests_done_ += s.requests.load();
    const bool asked = it->stopping;
    const std::optional<restart_cause> cause = asked ? it->cause : it->cause.value_or(restart_cause::crash);
    if (!asked || (cause && *cause != restart_cause::reload && *cause != restart_cause::max_requests &&
                   *cause != restart_cause::max_rss && *cause != restart_cause::max_lifetime)) {
      log("worker " + std::to_string(slot) + " (pid " + std::to_string(pid) + ") " + describe_wait_status(st) +
          (cause ? std::string(" [") + std::string(to_string(*cause)) + "]" : std::string()));
    }
    if (!asked && (!cause || *cause == restart_cause::crash)) {
      // Died young: back off, so a worker that cannot start does not spin.
      if (monotonic_ns() - it->started_ns < 1'000'000'000) {
        spawn_backoff_until_ns_ =
            monotonic_ns() + std::min(5'000'000'000LL, 100'000'000LL << std::min(quick_deaths_, 6));
        ++quick_deaths_;
      } else {
        quick_deaths_ = 0;
      }
    }
    if (cause) {
      ++restarts_[static_cast<int>(*cause)];
      board_.header().restarts[static_cast<int>(*cause)].fetch_add(1);
    }
    *it = proc{};
    s.pid.store(0);
    s.state.store(static_cast<std::uint32_t>(worker_state::empty));
  }
}

void master::watch() {
  const std::int64_t now = monotonic_ns();
  // Connections the kernel has accepted and no worker has taken yet: for a
  // listening socket, TCP_INFO's tcpi_unacked is the accept queue's length.
  std::uint64_t queued = 0;
  for (const auto& sock : sockets_) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(sock.fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0) queued += info.tcpi_unacked;
  }
  board_.header().accept_queue.store(queued);
  for (std::uint32_t slot = 0; slot < procs_.size(); ++slot) {
    proc& p = procs_[slot];
    if (p.pid == 0) continue;
    worker_slot& s = board_.slot(slot);
    if (p.kill_at_ns != 0 && now >= p.kill_at_ns) {
      ::kill(p.pid, SIGKILL);
      p.kill_at_ns = 0;
      continue;
    }
    if (!ready(slot) || p.stopping) continue;
    if (now - s.heartbeat_ns.load() > heartbeat_limit_ns) {
      log("worker " + std::to_string(slot) + " (pid " + std::to_string(p.pid) + ") stopped beating for " +
          std::to_string((now - s.heartbeat_ns.load()) / 1'000'000'000) + " s: killing it");
      p.cause = restart_cause::heartbeat;
      ::kill(p.pid, SIGKILL);
      continue;
    }
    // A request far past --timeout: the worker answered 504, but its thread
    // is stuck. Say which request, get its traceback, replace the worker.
    if (o_.timeout.count() > 0 && !p.timeout_reported) {
      for (int r = 0; r < worker_slot::max_requests_shown; ++r) {
        std::uint64_t id = 0;
        std::int64_t start = 0;
        std::string method, path;
        if (!s.read_request(r, id, start, method, path)) continue;
        const std::int64_t elapsed = now - start;
        if (elapsed < (o_.timeout.count() + 1000) * ns_per_ms) continue;
        log("request " + std::to_string(id) + " " + method + " " + path + " has run " +
            std::to_string(elapsed / ns_per_ms) + " ms on worker " + std::to_string(slot) + " (pid " +
            std::to_string(p.pid) + "), past the timeout of " + std::to_string(o_.timeout.count()) +
            " ms: replacing the worker");
        ::kill(p.pid, SIGUSR1);  // the worker prints the stuck thread's Python traceback
        p.timeout_reported = true;
        to_replace_.insert(to_replace_.begin(), replacement{slot, slot, restart_cause::timeout});
        break;
      }
    }
  }
}

void master::start_replacement(std::uint32_t slot, restart_cause cause) {
  const auto fresh = free_slot();
  if (!fresh || !spawn(*fresh)) {  // no room, or no process: try again at the next tick
    to_replace_.insert(to_replace_.begin(), replacement{slot, slot, cause});
    return;
  }
  procs_[slot].cause = cause;
  replacing_ = replacement{slot, *fresh, cause};
}

void master::advance_replacement() {
  if (replacing_) {
    const replacement r = *replacing_;
    proc& fresh = procs_[r.new_slot];
    if (fresh.pid == 0) {  // the successor died (reap backs off): the old one stays, and waits its turn again
      replacing_.reset();
      procs_[r.old_slot].cause.reset();
      to_replace_.insert(to_replace_.begin(), replacement{r.old_slot, r.old_slot, r.cause});
      return;
    }
    if (!ready(r.new_slot)) return;
    // The successor accepts: the old one may go, finishing what it holds.
    const auto within = r.cause == restart_cause::timeout ? std::chrono::milliseconds(2000) : o_.grace;
    tell_to_stop(r.old_slot, within);
    replacing_.reset();
    if (r.cause == restart_cause::reload &&
        std::none_of(to_replace_.begin(), to_replace_.end(),
                     [](const replacement& q) { return q.cause == restart_cause::reload; }))
      log("reload done");
    sd_notify(0, "READY=1\nSTATUS=reloaded");
  }
  if (replacing_) return;
  const std::int64_t now = monotonic_ns();
  if (now < spawn_backoff_until_ns_) return;
  // The next one: timeouts and a reload in progress first, then the recycling limits.
  while (!to_replace_.empty()) {
    const replacement next = to_replace_.front();
    to_replace_.erase(to_replace_.begin());
    if (procs_[next.old_slot].pid != 0 && !procs_[next.old_slot].stopping) {
      start_replacement(next.old_slot, next.cause);
      return;
    }
  }
  for (std::uint32_t slot = 0; slot < procs_.size(); ++slot) {
    const proc& p = procs_[slot];
    if (p.pid == 0 || p.stopping || !ready(slot)) continue;
    std::optional<restart_cause> cause;
    if (p.request_limit > 0 && board_.slot(slot).requests.load() >= p.request_limit) {
      cause = restart_cause::max_requests;
    } else if (o_.max_lifetime.count() > 0 &&
               now - p.started_ns > std::chrono::duration_cast<std::chrono::nanoseconds>(o_.max_lifetime).count()) {
      cause = restart_cause::max_lifetime;
    } else if (o_.max_rss_mb > 0 && rss_mb(p.pid) > o_.max_rss_mb) {
      cause = restart_cause::max_rss;
    }
    if (cause) {
      log("recycling worker " + std::to_string(slot) + " (pid " + std::to_string(p.pid) +
          "): " + std::string(to_string(*cause)));
      start_replacement(slot, *cause);
      return;
    }
  }
}

void master::keep_count() {
  if (monotonic_ns() < spawn_backoff_until_ns_) return;
  while (live_workers() < wanted_) {
    const auto slot = free_slot();
    if (!slot || !spawn(*slot)) return;
  }
  // Too many (TTOU): the newest leave first.
  while (live_workers() > wanted_) {
    std::uint32_t newest = 0;
    std::uint64_t gen = 0;
    for (std::uint32_t i = 0; i < procs_.size(); ++i)
      if (procs_[i].pid != 0 && !procs_[i].stopping && procs_[i].generation > gen &&
          !(replacing_ && (replacing_->old_slot == i || replacing_->new_slot == i)))
        gen = procs_[i].generation, newest = i;
    if (gen == 0) break;
    tell_to_stop(newest, o_.grace);
  }
}

void master::ask_reload() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading");
  if (!o_.preload || o_.apps.empty()) return begin_reload();
  if (check_pid_ != 0) {
    log("reload: the apps are being checked already");
    return;
  }
  auto pid = spawn_app_check(o_);
  if (!pid.ok()) {
    log("reload refused: " + pid.error().message());
    sd_notify(0, "READY=1\nSTATUS=reload refused");
    return;
  }
  check_pid_ = *pid;
  log("reload: checking that the WSGI apps load (--preload)");
}

void master::begin_reload() {
  log("reload: starting new workers, the old ones leave once each successor accepts");
  std::erase_if(to_replace_, [](const replacement& q) { return q.cause == restart_cause::reload; });
  for (std::uint32_t i = 0; i < procs_.size(); ++i)
    if (procs_[i].pid != 0 && !procs_[i].stopping && !(replacing_ && replacing_->new_slot == i))
      to_replace_.push_back(replacement{i, i, restart_cause::reload});
}

void master::start_upgrade() {
  if (successor_) {
    log("USR2: an upgrade is under way already (new master pid " + std::to_string(successor_->pid) + ")");
    return;
  }
  std::vector<std::string> argv = o_.self_argv;
  argv[0] = exe_;
  auto started = spawn_successor(exe_, argv, sockets_, wanted_);
  if (!started.ok()) {
    log("USR2: " + started.error().message() + ": this master keeps serving");
    return;
  }
  successor_ = *started;
  log("USR2: new master pid " + std::to_string(successor_->pid) + " started from " + exe_ +
      " on the same sockets; this one leaves once every new worker accepts");
}

bool master::upgrade_done() {
  if (!successor_ || successor_->ready_fd < 0) return false;
  const successor_news news = poll_successor(*successor_);
  if (news == successor_news::none) return false;
  ::close(successor_->ready_fd);
  successor_->ready_fd = -1;
  const int pid = successor_->pid;
  if (news == successor_news::failed) {
    log("upgrade failed: the new master (pid " + std::to_string(pid) + ") " +
        (successor_end_.empty() ? std::string("ended") : successor_end_) +
        " before its workers accepted; this master keeps serving");
    if (!successor_end_.empty()) successor_.reset();  // else reap() logs its end, and forgets it
    successor_end_.clear();
    return false;
  }
  log("upgrade: the new master (pid " + std::to_string(pid) + ") is ready: this one stops");
  // systemd follows the new master (NotifyAccess=main accepts this from us, the main pid).
  sd_notifyf(0, "MAINPID=%d", pid);
  return true;
}

// Every worker accepts, the first time: systemd, the pidfile, the old master.
void master::on_all_ready() {
  log(std::to_string(wanted_) + " workers ready");
  // systemd (Type=notify): ready once every worker accepts; nothing without NOTIFY_SOCKET.
  sd_notifyf(0, "READY=1\nMAINPID=%d\nSTATUS=%zu workers ready", static_cast<int>(::getpid()), wanted_);
  if (ready_fd_ < 0) return;
  if (!o_.pid_file.empty()) {
    if (auto s = write_pid_file(o_.pid_file); !s.ok()) log(s.message());
  }
  const char byte = 1;
  if (::write(ready_fd_, &byte, 1) != 1)
    log("upgrade: cannot tell the old master: " + std::string(std::strerror(errno)));
  ::close(ready_fd_);
  ready_fd_ = -1;
  log("upgrade: ready; the old master leaves");
}

result<core::report> master::run() {
  const auto t0 = std::chrono::steady_clock::now();
  auto& signals = core::stop_signals::install();
  // The signal thread only records what was asked; the loop acts on it.
  const auto ask = [this](auto&& change) {
    {
      std::scoped_lock lock(req_.mutex);
      change();
    }
    req_.wake.notify_all();
  };
  signals.on(SIGHUP, [&] { ask([&] { ++req_.reloads; }); });
  signals.on(SIGTTIN, [&] { ask([&] { ++req_.grow; }); });
  signals.on(SIGTTOU, [&] { ask([&] { ++req_.shrink; }); });
  signals.on(SIGQUIT, [&] { ask([&] { req_.quit = true; }); });
  signals.on(SIGUSR2, [&] { ask([&] { ++req_.upgrades; }); });
  const std::stop_callback on_stop(obs_.stop_token(), [&] { ask([&] { req_.stop = true; }); });

  board_.header().workers_wanted.store(static_cast<std::uint32_t>(wanted_));
  keep_count();
  bool stopping = false, quitting = false;
  std::int64_t stop_deadline = 0;
  for (;;) {
    {
      std::unique_lock lock(req_.mutex);
      req_.wake.wait_for(lock, 100ms);
      if (req_.quit && !quitting) {
        quitting = true;
        log("QUIT: stopping every worker now");
        sd_notify(0, "STOPPING=1");
        for (auto& p : procs_)
          if (p.pid != 0) ::kill(p.pid, SIGKILL);
      }
      if (req_.stop && !stopping) {
        stopping = true;
        stop_deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(o_.grace).count();
        log(fmt::format("stopping: workers finish their requests (grace {:g} s)", o_.grace.count() / 1000.0));
        sd_notify(0, "STOPPING=1\nSTATUS=stopping");
      }
      if (!stopping && !quitting) {
        if (req_.reloads > 0) {
          req_.reloads = 0;
          ask_reload();
        }
        wanted_ += static_cast<std::size_t>(req_.grow);
        for (; req_.shrink > 0; --req_.shrink)
          if (wanted_ > 1) --wanted_;
        req_.grow = 0;
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

}  // namespace

result<core::report> serve(const options& o, core::observer& obs) {
  if (o.self_argv.empty()) return status::invalid_argument("serve: the worker command line is missing");
  if (o.threads == 0) return status::invalid_argument("--threads must be at least 1");
  auto handed = adopt_handoff();
  if (!handed.ok()) return handed.error();
  std::optional<handoff> from_old = std::move(handed).value();
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
  master m(o, obs, std::move(board).value(), std::move(sockets).value(), workers, from_old ? from_old->ready_fd : -1);
  auto r = m.run();
  if (!o.pid_file.empty()) remove_pid_file(o.pid_file);
  return r;
}

}  // namespace scalekit::serve
