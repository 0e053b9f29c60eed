#pragma once
// Programs run in the background by integration tests.
//
// background_process runs a shell command with its stdout and stderr in files
// of its own temporary directory; wait_for_log() polls the log for a line,
// stop() sends SIGTERM and waits (SIGKILL after 10 s), kill() sends SIGKILL;
// the destructor stops it if the test did not. The process dies with the test
// (PR_SET_PDEATHSIG), so a crashed test leaves nothing running.
//
// server_process is a scalekit server told `--listen 127.0.0.1:0`, whose port
// is read from its "listening on 127.0.0.1:PORT" log line.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "run_command.h"
#include "sanitizers.h"

namespace scalekit::testing {

class background_process {
 public:
  background_process(const std::string& command, const std::string& tag) : command_(command), dir_(tag) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::setpgid(0, 0);
      const std::string cmd = "exec " + command + " 2>" + (dir_ / "log") + " >" + (dir_ / "out") + " </dev/null";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  virtual ~background_process() { pass_on_sanitizer_reports(stop(), command_); }
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] std::string log() const { return slurp(dir_ / "log"); }
  [[nodiscard]] std::string out() const { return slurp(dir_ / "out"); }
  [[nodiscard]] const temp_dir& dir() const { return dir_; }

  /// Poll the log until it contains `text` (true), the process ends or the time runs out (false).
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (log().find(text) != std::string::npos) return true;
      if (!alive()) return log().find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  /// Wait for the process to end by itself: true when it did within `timeout`.
  bool wait_exit(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (alive()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  /// SIGTERM, wait for the exit (SIGKILL after 10 s), and return the log.
  /// exit_code() then holds its exit status (128 + signal when killed).
  std::string stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 1000 && alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (alive()) kill();
    }
    return log();
  }
  /// SIGKILL and reap: a crash, as far as everyone else can tell.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    exit_code_ = 128 + SIGKILL;
    pid_ = -1;
  }
  [[nodiscard]] int exit_code() const { return exit_code_; }

 protected:
  bool alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return true;
    exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    pid_ = -1;
    return false;
  }

 private:
  std::string command_;
  temp_dir dir_;
  int pid_ = -1;
  int exit_code_ = -1;
};

class server_process : public background_process {
 public:
  /// Runs `binary args --listen 127.0.0.1:0` and waits for its "listening on" line.
  server_process(const std::string& binary, const std::string& args, const std::string& tag = "server")
      : background_process(binary + " " + args + " --listen 127.0.0.1:0", tag) {
    for (int i = 0; i < 500 && port_.empty() && alive(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const std::string text = log();
      const auto at = text.find("listening on 127.0.0.1:");
      if (at == std::string::npos) continue;
      const auto start = at + 23;
      const auto end = text.find_first_not_of("0123456789", start);
      if (end != std::string::npos && end > start) port_ = text.substr(start, end - start);
    }
  }
  /// The port, or "" when the server never said it was listening.
  [[nodiscard]] const std::string& port() const { return port_; }

 private:
  std::string port_;
};

}  // namespace scalekit::testing
