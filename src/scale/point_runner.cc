// A sweep point's run in a child process (point_runner.h).

#include "point_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace scalekit::scale {

namespace {

// What the child sends: plain bytes through the pipe.
struct wire {
  int code = 0;  // status_code of the job's error; 0: ok
  double wall_s, items, user_s, sys_s, peak_pss_kib, max_rss_kib;
  std::int64_t vcsw, ivcsw;
  std::uint64_t failures;
  char unit[32];
  char error[480];
};

void copy_text(char* to, std::size_t n, const std::string& s) {
  const std::size_t k = std::min(n - 1, s.size());
  std::memcpy(to, s.data(), k);
  to[k] = '\0';
}

// The PSS of one process in KiB, 0 when unreadable.
double pss_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/smaps_rollup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Pss:", 0) == 0) return std::strtod(line.c_str() + 4, nullptr);
  return 0;
}

// This process's PSS and its children's (worker processes), summed.
double pss_of_tree() {
  double sum = pss_of("self");
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return sum;
  while (const dirent* e = ::readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream children(std::string("/proc/self/task/") + e->d_name + "/children");
    for (std::string pid; children >> pid;) sum += pss_of(pid);
  }
  ::closedir(tasks);
  return sum;
}

// Samples pss_of_tree() every 20 ms on a thread of its own, keeping the peak.
class pss_sampler {
 public:
  pss_sampler() : thread_([this](std::stop_token stop) { loop(stop); }) {}
  double stop_and_peak() {
    thread_.request_stop();
    thread_.join();
    peak_ = std::max(peak_, pss_of_tree());
    return peak_;
  }

 private:
  void loop(std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
      peak_ = std::max(peak_, pss_of_tree());
      cv.wait_for(lock, stop, std::chrono::milliseconds(20), [] { return false; });
    }
  }
  double peak_ = 0;  // written by the thread until joined, then by stop_and_peak()
  std::jthread thread_;
};

status status_of(int code, std::string message) {
  switch (static_cast<status_code>(code)) {
    case status_code::invalid_argument: return status::invalid_argument(std::move(message));
    case status_code::io_error: return status::io_error(std::move(message));
    case status_code::not_found: return status::not_found(std::move(message));
    case status_code::corruption: return status::corruption(std::move(message));
    case status_code::too_large: return status::too_large(std::move(message));
    case status_code::cancelled: return status::cancelled(std::move(message));
    case status_code::timeout: return status::timeout(std::move(message));
    case status_code::task_failed: return status::task_failed(std::move(message));
    default: return status::internal(std::move(message));
  }
}

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

[[noreturn]] void child_main(int fd, const workload& w, const sweep_point& p, const std::string& dir) {
  // The sweep's process blocks its stop signals for its signal waiter: here
  // they are unblocked, so Ctrl-C ends the run at once with their default
  // action (a signal ignored when scalekit started stays ignored).
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
  wire out{};
  try {
    core::executor_options eo;
    eo.jobs = p.workers;
    auto ex = core::make_executor(p.executor, eo);
    ex->wait_ready();
    rusage r0{}, r1{}, kids{};
    ::getrusage(RUSAGE_SELF, &r0);
    pss_sampler sampler;
    core::observer quiet;  // the job's result lines are not the sweep's output
    const auto t0 = std::chrono::steady_clock::now();
    auto rep = w.run(p.size, dir, *ex, quiet);
    out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.peak_pss_kib = sampler.stop_and_peak();
    ex->close();
    ex.reset();
    ::getrusage(RUSAGE_SELF, &r1);
    ::getrusage(RUSAGE_CHILDREN, &kids);
    if (!rep.ok()) {
      out.code = static_cast<int>(rep.error().code());
      copy_text(out.error, sizeof out.error, rep.error().message());
    } else {
      out.items = rep->items;
      out.failures = rep->failures;
      copy_text(out.unit, sizeof out.unit, rep->unit);
    }
    out.user_s = seconds(r1.ru_utime) - seconds(r0.ru_utime) + seconds(kids.ru_utime);
    out.sys_s = seconds(r1.ru_stime) - seconds(r0.ru_stime) + seconds(kids.ru_stime);
    out.vcsw = r1.ru_nvcsw - r0.ru_nvcsw + kids.ru_nvcsw;
    out.ivcsw = r1.ru_nivcsw - r0.ru_nivcsw + kids.ru_nivcsw;
    out.max_rss_kib = static_cast<double>(std::max(r1.ru_maxrss, kids.ru_maxrss));
  } catch (const std::exception& e) {
    out.code = static_cast<int>(status_code::internal);
    copy_text(out.error, sizeof out.error, e.what());
  }
  const char* at = reinterpret_cast<const char*>(&out);
  for (std::size_t left = sizeof out; left > 0;) {
    const ssize_t n = ::write(fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  ::_exit(0);
}

}  // namespace

result<point_sample> measure_point(const workload& w, const sweep_point& p, const std::string& dir,
                                   const std::function<bool()>& tick) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return status::io_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return status::io_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], w, p, dir);
  }
  ::close(fds[1]);
  wire in{};
  std::size_t got = 0;
  bool stopped = false;
  while (true) {
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      const ssize_t n = ::read(fds[0], reinterpret_cast<char*>(&in) + got, sizeof in - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the child is done (or died)
      got += static_cast<std::size_t>(n);
      if (got == sizeof in) break;
      continue;
    }
    if (tick && tick()) {
      stopped = true;
      ::kill(pid, SIGTERM);
      break;
    }
  }
  ::close(fds[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  // Ctrl-C reaches the child too, which dies of it at once: give the parent's
  // signal waiter a moment to turn the same signal into a stop request.
  if (!stopped && got != sizeof in && WIFSIGNALED(st) &&
      (WTERMSIG(st) == SIGINT || WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGHUP) && tick)
    for (int i = 0; i < 50 && !stopped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      stopped = tick();
    }
  if (stopped) return status::cancelled("the sweep was stopped");
  if (got != sizeof in) {
    const std::string how = WIFSIGNALED(st) ? fmt::format("killed by signal {}", WTERMSIG(st))
                                            : fmt::format("exit status {}", WEXITSTATUS(st));
    return status::internal(fmt::format("the run's process ended without its figures ({})", how));
  }
  if (in.code != 0) return status_of(in.code, in.error);
  point_sample s;
  s.wall_s = in.wall_s;
  s.items = in.items;
  s.unit = in.unit;
  s.user_s = in.user_s;
  s.sys_s = in.sys_s;
  s.voluntary_switches = in.vcsw;
  s.involuntary_switches = in.ivcsw;
  s.peak_pss_kib = in.peak_pss_kib;
  s.max_rss_kib = in.max_rss_kib;
  s.failures = in.failures;
  return s;
}

}  // namespace scalekit::scale
