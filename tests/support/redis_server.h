#pragma once
// A private redis-server for a test: on a free loopback port, its files in a
// fresh temporary directory, stopped (by its pid) when the object goes away.
// restart() stops it and starts it again on the same port, pause() stops it
// answering: for fault tests.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "loopback.h"
#include "run_command.h"

namespace scalekit::testing {

class redis_server {
 public:
  /// `extra`: more redis-server arguments, e.g. "--requirepass secret" or "--appendonly yes".
  explicit redis_server(std::string extra = "") : dir_("redis"), extra_(std::move(extra)) {
    port_ = free_port();
    start();
  }
  ~redis_server() { stop(); }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(int db = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }
  /// redis-cli against this server, e.g. cli("LLEN celery").
  [[nodiscard]] command_result cli(const std::string& args, const std::string& auth = "") const {
    return run_command("redis-cli -p " + std::to_string(port_) +
                       (auth.empty() ? "" : " -a " + auth + " --no-auth-warning") + " " + args);
  }
  [[nodiscard]] bool running() const { return pid_ > 0; }

  void stop() { end(SIGTERM); }
  /// SIGSTOP: the kernel still accepts its connections, and nothing answers. resume() undoes it.
  void pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }
  void kill_hard() { end(SIGKILL); }
  void restart() {
    stop();
    start();
  }

  void start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed or killed test leaves no server behind
      const std::string cmd = "exec redis-server --port " + std::to_string(port_) +
                              " --bind 127.0.0.1 --save '' --dir " + dir_.path.string() + " " + extra_ + " >" +
                              (dir_ / "log") + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500; ++i) {  // until it accepts connections
      if (const int fd = connect_loopback(std::to_string(port_)); fd >= 0) {
        ::close(fd);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  // Signal the server and reap it: SIGTERM for an orderly stop, SIGKILL for a crash.
  void end(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    ::kill(pid_, SIGCONT);  // a paused server acts on the signal only once it runs
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

  temp_dir dir_;
  std::string extra_;
  int port_ = 0;
  int pid_ = -1;
};

}  // namespace scalekit::testing
