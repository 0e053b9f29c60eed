#pragma once
// `scalekit dummyimage serve` on a free loopback port, for the runs of
// `scale tables` that fetch image URLs as the chapter's thumbnail programs
// fetch dummyimage.com's: the same URLs, served offline.

#include <sys/types.h>

#include <string>

#include "scalekit/core/status.h"

namespace scalekit::scale {

class image_server {
 public:
  image_server() = default;
  /// Stops the server (SIGTERM, then SIGKILL after 5 s) and reaps it.
  ~image_server();
  image_server(const image_server&) = delete;
  image_server& operator=(const image_server&) = delete;

  /// Start the server (this executable, `dummyimage serve --listen
  /// 127.0.0.1:0`) with its log in `log_path`, and wait up to 10 s for the
  /// port it logs. Errors: io_error when it cannot be started, timeout when
  /// no port is logged in time (the server is then stopped).
  status start(const std::string& log_path);
  /// "http://127.0.0.1:PORT"; empty before start() succeeds.
  [[nodiscard]] const std::string& base() const { return base_; }

 private:
  void stop();
  pid_t pid_ = -1;
  std::string base_;
};

}  // namespace scalekit::scale
