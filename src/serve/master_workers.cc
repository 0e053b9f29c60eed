// serve's master (master_detail.h): its workers spawned, reaped, watched
// (heartbeats, --timeout, --max-rss, --max-lifetime), recycled and replaced
// one at a time, the replacement accepting before the old one leaves.

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
#include <cstdint>
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
#include "scalekit/core/spawn.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/serve.h"

extern char** environ;

namespace scalekit::serve::detail {

using namespace std::chrono_literals;

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
    p.request_limit = o_.max_requests + std::min(jitter(rng_), UINT64_MAX - o_.max_requests);  // saturated
  }
  if (o_.max_lifetime.count() > 0) {
    std::uniform_int_distribution<std::int64_t> jitter(0, o_.max_lifetime_jitter.count());
    p.lifetime_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(o_.max_lifetime).count() + jitter(rng_) * ns_per_ms;
  }
  // The slot starts clean for its new process.
  s.requests.store(0);
  s.in_flight.store(0);
  s.queued.store(0);
  s.connections.store(0);
  // A process killed mid-request (a crash, --timeout) never ended its records:
  // left in place, they would read as its successor's, stuck past --timeout.
  for (auto& r : s.running) r.id.store(0);
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
  const core::spawn_attributes attr;  // no signal blocked, each one's default action

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, worker_env_name, std::strlen(worker_env_name)) != 0) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(worker_env_name) + "=" + std::to_string(slot) + ":" + std::to_string(p.generation) +
                        ":" + std::to_string(sockets_.size()) + ":" + std::to_string(::getpid()));
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = o_.self_argv;
  args[0] = worker_process_title(slot);  // what ps shows; the worker parses the rest of the command line
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, attr.get(), argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
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
    if (!asked && cause && *cause == restart_cause::crash) {
      // Its clients get no answer: say which requests (the records stay until the slot's next process).
      for (int r = 0; r < worker_slot::max_requests_shown; ++r) {
        std::uint64_t id = 0;
        std::int64_t start = 0;
        std::string method, path;
        if (!s.read_request(r, id, start, method, path)) continue;
        log("worker " + std::to_string(slot) + " was running request " + request_id_text(id) + " " + method + " " +
            path + " (for " + std::to_string((monotonic_ns() - start) / ns_per_ms) + " ms): its client gets no answer");
      }
    }
    if (!asked && (!cause || *cause == restart_cause::crash)) {
      // Died before it was ever ready (however long its start took: an import
      // can take seconds, and longer on a loaded machine) or soon after: back
      // off, so a worker that cannot start does not spin, and is given up on.
      const bool never_ready = s.state.load() == static_cast<std::uint32_t>(worker_state::starting);
      if (never_ready || monotonic_ns() - it->started_ns < 1'000'000'000) {
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
        log("request " + request_id_text(id) + " " + method + " " + path + " has run " +
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
      if (r.cause == restart_cause::reload && quick_deaths_ >= 3) {
        // New code that cannot start (an app deleted or broken since): said once, not retried for ever.
        std::erase_if(to_replace_, [](const replacement& q) { return q.cause == restart_cause::reload; });
        log("reload abandoned: the new workers fail to start (see above); the old workers keep serving "
            "(fix the apps, then HUP again)");
        sd_notify(0, "READY=1\nSTATUS=reload abandoned");
        return;
      }
      to_replace_.insert(to_replace_.begin(), replacement{r.old_slot, r.old_slot, r.cause});
      return;
    }
    if (!ready(r.new_slot)) return;
    // The successor accepts: the old one may go, finishing what it holds.
    const auto within = r.cause == restart_cause::timeout ? std::chrono::milliseconds(2000) : o_.grace;
    tell_to_stop(r.old_slot, within);
    replacing_.reset();
    // systemd hears the reload finished once the last of its workers is replaced, not at each
    // replacement (nor at recycles).
    if (r.cause == restart_cause::reload &&
        std::none_of(to_replace_.begin(), to_replace_.end(),
                     [](const replacement& q) { return q.cause == restart_cause::reload; }))
      reload_done();
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
    if (const auto cause = recycle_cause(slot, now)) {
      const std::string limit = *cause == restart_cause::max_lifetime
                                    ? fmt::format(" (its limit {:.3f} s)", static_cast<double>(p.lifetime_ns) / 1e9)
                                    : std::string();
      log(fmt::format("recycling worker {} (pid {}) after {:.3f} s: {}{}", slot, p.pid,
                      static_cast<double>(now - p.started_ns) / 1e9, to_string(*cause), limit));
      start_replacement(slot, *cause);
      return;
    }
  }
}

// Whether the ready worker in `slot` is due for recycling, and why. Never
// before recycle_floor_ns; RSS recycles of young workers back off.
std::optional<restart_cause> master::recycle_cause(std::uint32_t slot, std::int64_t now) {
  const proc& p = procs_[slot];
  const std::int64_t age = now - p.started_ns;
  if (age < recycle_floor_ns) return std::nullopt;
  if (p.request_limit > 0 && board_.slot(slot).requests.load() >= p.request_limit) return restart_cause::max_requests;
  if (p.lifetime_ns > 0 && age > p.lifetime_ns) return restart_cause::max_lifetime;
  if (o_.max_rss_mb == 0 || now < rss_backoff_until_ns_) return std::nullopt;
  const std::uint64_t rss = rss_mb(p.pid);
  if (rss <= o_.max_rss_mb) return std::nullopt;
  if (age >= rss_young_ns) {
    young_rss_recycles_ = 0;
    return restart_cause::max_rss;
  }
  const std::int64_t wait = std::min(rss_backoff_max_ns, recycle_floor_ns << std::min(young_rss_recycles_, 6));
  ++young_rss_recycles_;
  rss_backoff_until_ns_ = now + wait;
  if (!rss_below_fresh_logged_) {
    rss_below_fresh_logged_ = true;
    log(
        fmt::format("--max-rss {} MiB is below a fresh worker's size ({} MiB after {:.1f} s): recycling for RSS "
                    "backs off, up to {} s between recycles",
                    o_.max_rss_mb, rss, static_cast<double>(age) / 1e9, rss_backoff_max_ns / 1'000'000'000));
  }
  return restart_cause::max_rss;
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

}  // namespace scalekit::serve::detail
