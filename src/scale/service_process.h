#pragma once
// A server that `scale tables` runs for the duration of its runs: scalekit's
// dummyimage server (the chapter's thumbnail URLs, offline), and a Redis and a
// scalekit worker (the chapter's Celery fleet). Each is started on loopback,
// its log in a file, and stopped by its pid when the object goes.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::scale {

class service_process {
 public:
  service_process() = default;
  /// Stops the process (SIGTERM, then SIGKILL after 5 s) and reaps it.
  ~service_process();
  service_process(const service_process&) = delete;
  service_process& operator=(const service_process&) = delete;

  /// Run argv (argv[0] looked up in PATH unless it has a slash) with stdout and stderr in
  /// `log_path`, and wait until the log contains `ready` (empty: do not
  /// wait). Errors: io_error when it cannot be started or ends first, timeout
  /// when `ready` is not logged in time (the process is then stopped). Either
  /// way the log's end is in the message. The process gets SIGTERM should
  /// this one die first.
  status start(const std::vector<std::string>& argv, const std::string& log_path, std::string_view ready,
               std::chrono::seconds timeout = std::chrono::seconds(20));
  /// Wait until the log contains `ready`, as start() does; also ends, with
  /// the process stopped and cancelled, when `stopped` returns true.
  status wait_for(std::string_view ready, std::chrono::seconds timeout, const std::function<bool()>& stopped = {});
  /// The log so far.
  [[nodiscard]] std::string log() const;
  [[nodiscard]] bool running() const { return pid_ > 0; }
  /// The process's id while running(), else -1.
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Whether the process has ended (it is then reaped, and running() is false).
  bool has_exited();

 private:
  void stop();
  pid_t pid_ = -1;
  std::string log_path_, program_;
};

/// A loopback TCP port that was free a moment ago (bound to port 0 and closed).
int free_loopback_port();

/// The port in a log line "listening on 127.0.0.1:PORT", or 0.
int logged_port(std::string_view log);

}  // namespace scalekit::scale
