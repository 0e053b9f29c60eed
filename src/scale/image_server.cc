// The offline image server of `scale tables` (image_server.h).

#include "image_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace scalekit::scale {

image_server::~image_server() { stop(); }

void image_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int st = 0;
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

status image_server::start(const std::string& log_path) {
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) return status::io_error("cannot write '" + log_path + "': " + std::strerror(errno));
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log);
    return status::io_error(std::string("cannot start dummyimage serve: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(log, 2);
    char* argv[] = {const_cast<char*>("scalekit"), const_cast<char*>("dummyimage"), const_cast<char*>("serve"),
                    const_cast<char*>("--listen"), const_cast<char*>("127.0.0.1:0"), nullptr};
    ::execv("/proc/self/exe", argv);
    ::_exit(127);
  }
  ::close(log);
  constexpr std::string_view mark = "listening on 127.0.0.1:";
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream in(log_path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    if (const auto at = s.find(mark); at != std::string::npos) {
      const auto digits = s.find_first_not_of("0123456789", at + mark.size());
      const std::string port = s.substr(at + mark.size(), digits - at - mark.size());
      if (!port.empty() && digits != std::string::npos) {
        base_ = "http://127.0.0.1:" + port;
        return {};
      }
    }
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return status::io_error("dummyimage serve ended before listening: " + s);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  return status::timeout("dummyimage serve logged no port within 10 s");
}

}  // namespace scalekit::scale
