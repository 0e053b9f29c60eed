#pragma once
// A scalekit server started in the background for an integration test, on a
// free loopback port: it is told `--listen 127.0.0.1:0` and the test reads the
// port from its "listening on 127.0.0.1:PORT" log line. stop() sends SIGTERM,
// waits for the exit and returns the log; the destructor stops it if the test
// did not.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "run_command.h"

namespace scalekit::testing {

class server_process {
 public:
  /// Runs `binary args --listen 127.0.0.1:0` with stderr to a log file.
  server_process(const std::string& binary, const std::string& args, const std::string& tag = "server")
      : dir_(tag) {
    const std::string log = dir_ / "log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const std::string cmd = "exec " + binary + " " + args + " --listen 127.0.0.1:0 2>" + log + " >" + (dir_ / "out") +
                              " </dev/null";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && port_.empty() && alive(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const std::string text = slurp(log);
      const auto at = text.find("listening on 127.0.0.1:");
      if (at == std::string::npos) continue;
      const auto start = at + 23;
      const auto end = text.find_first_not_of("0123456789", start);
      if (end != std::string::npos && end > start) port_ = text.substr(start, end - start);
    }
  }
  ~server_process() { stop(); }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// The port, or "" when the server never said it was listening.
  [[nodiscard]] const std::string& port() const { return port_; }
  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] std::string log() const { return slurp(dir_ / "log"); }
  [[nodiscard]] const temp_dir& dir() const { return dir_; }

  /// SIGTERM, wait for the exit (SIGKILL after 10 s), and return the log.
  /// exit_code() then holds its exit status (128 + signal when killed).
  std::string stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      for (int i = 0; i < 1000; ++i) {
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        exit_code_ = 128 + SIGKILL;
        pid_ = -1;
      }
    }
    return log();
  }
  [[nodiscard]] int exit_code() const { return exit_code_; }

 private:
  bool alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return true;
    exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);  // it died before listening
    pid_ = -1;
    return false;
  }
  temp_dir dir_;
  int pid_ = -1;
  int exit_code_ = -1;
  std::string port_;
};

}  // namespace scalekit::testing
