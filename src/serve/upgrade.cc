// USR2: the hand-over of the listening sockets from an old master to a new
// one, and the pidfile (upgrade.h).

#include "upgrade.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "scalekit/core/atomic_file.h"

extern char** environ;

namespace scalekit::serve {

namespace {

// Above the workers' descriptors, like the sockets (sockets.cc).
constexpr int high_fd = 64;

}  // namespace

result<std::optional<handoff>> adopt_handoff() {
  const char* v = std::getenv(upgrade_env_name);
  if (v == nullptr) return std::optional<handoff>();
  handoff h;
  int sockets = 0;
  const bool parsed = std::sscanf(v, "%d:%d:%zu", &sockets, &h.old_master, &h.workers) == 3 && sockets > 0 &&
                      sockets < high_fd - 4 && h.workers > 0 && h.workers <= 1024;
  ::unsetenv(upgrade_env_name);  // not for the workers, nor for a later upgrade's environment
  if (!parsed)
    return status::invalid_argument(std::string(upgrade_env_name) + "='" + v + "': not <sockets>:<pid>:<workers>");
  for (int i = 0; i < sockets; ++i) {
    bound_socket s = adopt_socket(3 + i);
    if (s.fd < 0) {
      for (auto& taken : h.sockets) ::close(taken.fd);
      return status::io_error("cannot take socket " + std::to_string(3 + i) + " from the old master");
    }
    h.sockets.push_back(std::move(s));
  }
  h.ready_fd = ::fcntl(3 + sockets, F_DUPFD_CLOEXEC, high_fd);
  ::close(3 + sockets);
  return std::optional<handoff>(std::move(h));
}

result<successor> spawn_successor(const std::string& exe, const std::vector<std::string>& argv,
                                  const std::vector<bound_socket>& sockets, std::size_t workers) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return status::io_error(std::string("pipe: ") + std::strerror(errno));
  // The sockets at 3, 4, ..., the pipe after them; the sources are high (sockets.cc), so no dup2 overwrites one.
  const int write_end = ::fcntl(pipe_fds[1], F_DUPFD_CLOEXEC, high_fd);
  ::close(pipe_fds[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int fd = 3;
  for (const auto& s : sockets) posix_spawn_file_actions_adddup2(&fa, s.fd, fd++);
  posix_spawn_file_actions_adddup2(&fa, write_end, fd++);
  posix_spawn_file_actions_addclosefrom_np(&fa, fd);
  // The signal mask is inherited on purpose: the claimed signals stay blocked
  // until the new master's own stop_signals wait for them, so a HUP in between
  // stays pending rather than killing it. Ignored signals stay ignored (nohup).
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, upgrade_env_name, std::strlen(upgrade_env_name)) != 0) env.emplace_back(*e);
  env.push_back(std::string(upgrade_env_name) + "=" + std::to_string(sockets.size()) + ":" +
                std::to_string(::getpid()) + ":" + std::to_string(workers));
  std::vector<char*> envp, args;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(write_end);  // the new master holds the only write end: its exit is our end of file
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return status::io_error("cannot start " + exe + ": " + std::strerror(rc));
  }
  return successor{pid, pipe_fds[0]};
}

successor_news poll_successor(const successor& s) {
  char byte = 0;
  const ssize_t n = ::read(s.ready_fd, &byte, 1);
  if (n == 1) return successor_news::ready;
  if (n == 0) return successor_news::failed;
  return errno == EAGAIN || errno == EINTR ? successor_news::none : successor_news::failed;
}

std::string own_binary_path() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : p.string();
}

status write_pid_file(const std::string& path) {
  // Whole or absent: a reader (a service manager, a USR2 script) never sees a half-written number.
  auto s = core::atomic_file::write_whole(path, std::to_string(::getpid()) + "\n");
  if (s.ok()) return s;
  return status::io_error("the pidfile: " + s.message());
}

namespace {

// The pid a pidfile names; 0 when it is missing or holds none.
long pid_in_file(const std::string& path) {
  long pid = 0;
  std::ifstream(path) >> pid;
  return pid;
}

}  // namespace

status check_pid_file_free(const std::string& path) {
  const long pid = pid_in_file(path);
  if (pid <= 0 || pid == ::getpid()) return {};
  std::string name;
  std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/comm"), name);
  if (name != master_process_name) return {};
  return status::invalid_argument("--pid " + path + ": names a running server (pid " + std::to_string(pid) +
                                  "); stop it, or give another file");
}

void remove_pid_file(const std::string& path) {
  if (pid_in_file(path) == ::getpid()) ::unlink(path.c_str());
}

}  // namespace scalekit::serve
