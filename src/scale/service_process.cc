// The servers of `scale tables` (service_process.h).

#include "service_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace scalekit::scale {

service_process::~service_process() { stop(); }

void service_process::stop() {
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

bool service_process::has_exited() {
  if (pid_ <= 0) return true;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

std::string service_process::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

status service_process::start(const std::vector<std::string>& argv, const std::string& log_path, std::string_view ready,
                              std::chrono::seconds timeout) {
  log_path_ = log_path;
  program_ = argv.empty() ? std::string() : argv[0];
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return status::io_error("cannot write '" + log_path + "': " + std::strerror(errno));
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log_fd);
    return status::io_error("cannot start " + argv[0] + ": " + std::strerror(errno));
  }
  if (pid_ == 0) {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // should scale die without stopping it
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execvp(cargs[0], cargs.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return ready.empty() ? status() : wait_for(ready, timeout);
}

status service_process::wait_for(std::string_view ready, std::chrono::seconds timeout,
                                 const std::function<bool()>& stopped) {
  const auto tail = [&] {
    const std::string s = log();
    return s.size() > 400 ? s.substr(s.size() - 400) : s;
  };
  const std::string name = program_;
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pid_ <= 0) return status::io_error(name + " is not running");
    if (log().find(ready) != std::string::npos) return {};
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return status::io_error(name + " ended before it was ready: " + tail());
    }
    if (stopped && stopped()) {
      stop();
      return status::cancelled(name + " was stopped before it was ready");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  return status::timeout(name + " was not ready in time: " + tail());
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

int logged_port(std::string_view log) {
  constexpr std::string_view mark = "listening on 127.0.0.1:";
  const auto at = log.find(mark);
  if (at == std::string_view::npos) return 0;
  int port = 0;
  const char* first = log.data() + at + mark.size();
  std::from_chars(first, log.data() + log.size(), port);
  return port;
}

}  // namespace scalekit::scale
