// serve's master (master_detail.h): HUP reloads (after --preload's check of
// the apps), USR2 upgrades to a new master on the same sockets, and the
// moment every worker is ready.

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
  bool any = false;
  for (std::uint32_t i = 0; i < procs_.size(); ++i)
    if (procs_[i].pid != 0 && !procs_[i].stopping && !(replacing_ && replacing_->new_slot == i)) {
      to_replace_.push_back(replacement{i, i, restart_cause::reload});
      any = true;
    }
  if (!any) reload_done();  // no worker to replace: nothing to wait for
}

void master::reload_done() {
  log("reload done");
  sd_notify(0, "READY=1\nSTATUS=reloaded");
}

void master::start_upgrade() {
  if (successor_) {
    log("USR2: an upgrade is under way already (new master pid " + std::to_string(successor_->pid) + ")");
    return;
  }
  std::vector<std::string> argv = o_.self_argv;
  argv[0] = master_process_title;
  auto started = spawn_successor(exe_, argv, sockets_, wanted_);
  if (!started.ok()) {
    log("USR2: " + started.error().message() + ": this master keeps serving");
    return;
  }
  successor_ = *started;
  successor_due_ns_ = monotonic_ns() + std::chrono::nanoseconds(o_.upgrade_timeout).count();
  successor_kill_ns_ = 0;
  log("USR2: new master pid " + std::to_string(successor_->pid) + " started from " + exe_ +
      " on the same sockets; this one leaves once every new worker accepts");
}

bool master::upgrade_done() {
  if (!successor_ || successor_->ready_fd < 0) return false;
  const successor_news news = poll_successor(*successor_);
  if (news == successor_news::none) {
    // A new master that hangs (a wrapper that never execs, workers that never
    // accept) would hold the sockets and refuse every later USR2.
    if (successor_kill_ns_ == 0 && monotonic_ns() >= successor_due_ns_)
      stop_successor(SIGTERM, fmt::format("is not ready after {:g} s (--upgrade-timeout): it is told to stop; "
                                          "this master keeps serving",
                                          static_cast<double>(o_.upgrade_timeout.count()) / 1000));
    else if (successor_kill_ns_ != 0 && monotonic_ns() >= successor_kill_ns_)
      ::kill(successor_->pid, SIGKILL);
    return false;
  }
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

void master::stop_successor(int sig, const std::string& why) {
  if (!successor_ || successor_->ready_fd < 0 || successor_kill_ns_ != 0) return;
  ::kill(successor_->pid, sig);
  // Its own --grace (the same flags) and a margin; then SIGKILL.
  successor_kill_ns_ = monotonic_ns() + std::chrono::nanoseconds(o_.grace + 5s).count();
  log("upgrade abandoned: the new master (pid " + std::to_string(successor_->pid) + ") " + why);
}

// Every worker accepts, the first time: systemd, the pidfile, the old master.
void master::on_all_ready() {
  const std::string ready = workers_text(wanted_) + " ready";
  log(ready);
  // systemd (Type=notify): ready once every worker accepts; nothing without NOTIFY_SOCKET.
  sd_notifyf(0, "READY=1\nMAINPID=%d\nSTATUS=%s", static_cast<int>(::getpid()), ready.c_str());
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

}  // namespace scalekit::serve::detail
