// The emulated hosts' network and processes (hosts_testbed.h); their cgroups
// are in hosts_cgroup.cc.

#include "hosts_testbed.h"

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <thread>
#include "scalekit/core/spawn.h"

extern char** environ;

namespace scalekit::scale::hosts_detail {

namespace fs = std::filesystem;

namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> v;
  for (const auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

// The decimal digits of `v` into buf (no allocation: used between fork and exec).
std::size_t format_pid(pid_t v, char* buf) {
  char tmp[24];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (std::size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  return n;
}

void child_fail(int err_fd, const char* what) {
  const char* e = std::strerror(errno);
  (void)!::write(err_fd, what, std::strlen(what));
  (void)!::write(err_fd, ": ", 2);
  (void)!::write(err_fd, e, std::strlen(e));
  (void)!::write(err_fd, "\n", 1);
  ::_exit(127);
}

}  // namespace

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = std::string(path != nullptr ? path : "") + ":/usr/sbin:/usr/bin:/usr/local/bin";
  for (std::size_t pos = 0; pos <= dirs.size();) {
    const std::size_t end = std::min(dirs.find(':', pos), dirs.size());
    const std::string candidate = dirs.substr(pos, end - pos) + "/" + name;
    if (end > pos && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  return "";
}

status run_tool(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return status::io_error(fmt::format("pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 2);
  const core::spawn_attributes attr;  // no signal blocked (spawn() says why)
  pid_t pid = 0;
  auto args = c_argv(argv);
  const int e = ::posix_spawnp(&pid, args[0], &fa, attr.get(), args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipe_fds[1]);
  if (e != 0) {
    ::close(pipe_fds[0]);
    return status::io_error(fmt::format("cannot run {}: {}", argv[0], std::strerror(e)));
  }
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) err.append(buf, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return {};
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  return status::io_error(fmt::format("'{}' failed: {}", cmd, err.empty() ? "no message" : err));
}

int wait_child(pid_t pid, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (r < 0 && errno != EINTR) return 0;  // not ours any more: gone
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

result<std::unique_ptr<testbed>> testbed::create(int hosts, const limits& l) {
  std::unique_ptr<testbed> t(new testbed());
  if (auto st = t->make(hosts, l); !st.ok()) {
    (void)t->teardown();
    return st;
  }
  return t;
}

testbed::~testbed() { (void)teardown(); }

status testbed::make(int hosts, const limits& l) {
  auto kind = cgroup_version();
  if (!kind.ok()) return kind.error();
  kind_ = *kind;
  const auto pid = std::to_string(::getpid());
  prefix_ = "sk" + pid;
  cg_root_ = "scalekit-hosts-" + pid;
  switch_ns_ = prefix_ + "-sw";
  nodes_.push_back({"broker", prefix_ + "-broker", "10.87.0.2", "broker"});
  nodes_.push_back({"client", prefix_ + "-client", "10.87.0.3", "client"});
  for (int i = 1; i <= hosts; ++i) {
    const auto name = "h" + std::to_string(i);
    nodes_.push_back({name, prefix_ + "-" + name, "10.87.0." + std::to_string(10 + i), name});
  }

  made_ns_ = true;
  const auto ip = [](std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    return run_tool(args);
  };
  if (auto st = ip({"netns", "add", switch_ns_}); !st.ok()) return st;
  if (auto st = ip({"-n", switch_ns_, "link", "add", "br0", "type", "bridge"}); !st.ok()) return st;
  if (auto st = ip({"-n", switch_ns_, "link", "set", "br0", "up"}); !st.ok()) return st;
  for (const auto& n : nodes_) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"netns", "add", n.ns},
             {"-n", n.ns, "link", "set", "lo", "up"},
             {"-n", n.ns, "link", "add", "eth0", "type", "veth", "peer", "name", n.name, "netns", switch_ns_},
             {"-n", n.ns, "addr", "add", n.ip + "/24", "dev", "eth0"},
             {"-n", n.ns, "link", "set", "eth0", "up"},
             {"-n", switch_ns_, "link", "set", n.name, "master", "br0"},
             {"-n", switch_ns_, "link", "set", n.name, "up"},
         })
      if (auto st = ip(args); !st.ok()) return st;
    const double cpu = n.name == "broker" ? l.broker_cpu : n.name == "client" ? l.client_cpu : l.host_cpu;
    if (auto st = make_cgroup(kind_, cg_root_, n.cgroup, cpu, l.memory_bytes); !st.ok()) return st;
  }
  return {};
}

result<pid_t> testbed::spawn(const node& n, const std::vector<std::string>& argv, const std::string& out,
                             const std::string& err) {
  // Everything the child needs is opened and formatted here: between fork and
  // exec only async-signal-safe calls.
  std::vector<int> fds;
  const auto close_all = [&] {
    for (int fd : fds) ::close(fd);
  };
  for (const auto& dir : cgroup_dirs(kind_, cg_root_, n.cgroup)) {
    const int fd = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      close_all();
      return status::io_error(fmt::format("cannot open {}/cgroup.procs: {}", dir, std::strerror(errno)));
    }
    fds.push_back(fd);
  }
  const std::size_t n_cg = fds.size();
  const int ns_fd = ::open(("/run/netns/" + n.ns).c_str(), O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  for (int fd : {ns_fd, out_fd, err_fd}) fds.push_back(fd);
  if (ns_fd < 0 || out_fd < 0 || err_fd < 0) {
    close_all();
    return status::io_error(fmt::format("cannot start {} in {}: {}", argv[0], n.ns, std::strerror(errno)));
  }
  auto args = c_argv(argv);
  const pid_t pid = ::fork();
  if (pid == 0) {
    char buf[24];
    const std::size_t len = format_pid(::getpid(), buf);
    for (std::size_t i = 0; i < n_cg; ++i)
      if (::write(fds[i], buf, len) < 0) child_fail(err_fd, "cannot join the cgroup");
    if (::setns(ns_fd, CLONE_NEWNET) != 0) child_fail(err_fd, "cannot enter the network namespace");
    ::setsid();
    // scalekit blocks its stop signals in every thread (a waiter thread takes
    // them); the mask survives exec, and a worker that cannot see SIGTERM
    // cannot stop.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) child_fail(err_fd, "dup2");
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::execv(args[0], args.data());
    child_fail(err_fd, "exec");
  }
  const int fork_errno = errno;
  close_all();
  if (pid < 0) return status::io_error(fmt::format("fork: {}", std::strerror(fork_errno)));
  spawned_.push_back(pid);
  return pid;
}

status testbed::set_link(const node& n, bool up) {
  return run_tool({"ip", "-n", switch_ns_, "link", "set", n.name, up ? "up" : "down"});
}

double testbed::cpu_seconds(const node& n) const { return cgroup_cpu_seconds(kind_, cg_root_, n.cgroup); }

status testbed::teardown() {
  status first;
  const auto keep = [&](status st) {
    if (first.ok() && !st.ok()) first = std::move(st);
  };
  if (!kind_.empty()) {
    for (const auto& n : nodes_) kill_cgroup(kind_, cg_root_, n.cgroup);
  }
  for (pid_t p : spawned_) {
    ::kill(p, SIGKILL);
    (void)wait_child(p, 5);
  }
  spawned_.clear();
  if (made_ns_) {
    for (const auto& n : nodes_)
      if (fs::exists("/run/netns/" + n.ns)) keep(run_tool({"ip", "netns", "del", n.ns}));
    if (fs::exists("/run/netns/" + switch_ns_)) keep(run_tool({"ip", "netns", "del", switch_ns_}));
    made_ns_ = false;
  }
  if (!kind_.empty()) {
    std::vector<std::string> names;
    for (const auto& n : nodes_) names.push_back(n.cgroup);
    keep(remove_cgroups(kind_, cg_root_, names));
  }
  return first;
}

std::vector<std::string> testbed::leftovers() const {
  std::vector<std::string> left;
  for (const auto& n : nodes_)
    if (fs::exists("/run/netns/" + n.ns)) left.push_back("netns " + n.ns);
  if (!switch_ns_.empty() && fs::exists("/run/netns/" + switch_ns_)) left.push_back("netns " + switch_ns_);
  if (!kind_.empty())
    for (const auto& dir : cgroup_dirs(kind_, cg_root_, ""))
      if (fs::exists(dir)) left.push_back("cgroup " + dir);
  return left;
}

}  // namespace scalekit::scale::hosts_detail
