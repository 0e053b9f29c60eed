// A sweep point's run in a child process (point_runner.h).

#include "point_runner.h"

#include "pss.h"

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
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>
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
  task_latency tasks;
  char unit[32];
  char error[480];
};

void copy_text(char* to, std::size_t n, const std::string& s) {
  const std::size_t k = std::min(n - 1, s.size());
  std::memcpy(to, s.data(), k);
  to[k] = '\0';
}

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

// A duration field of a report in seconds, or NaN.
double seconds_field(const core::report& rep, std::string_view key) {
  const auto* v = rep.find(key);
  if (v == nullptr) return task_latency::none;
  if (const auto* ns = std::get_if<std::chrono::nanoseconds>(v)) return std::chrono::duration<double>(*ns).count();
  if (const auto* d = std::get_if<double>(v)) return *d;
  return task_latency::none;
}

// The same from a --json report.
task_latency task_latency_of_json(const nlohmann::json& j) {
  task_latency t;
  const auto number = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : task_latency::none;
  };
  if (const auto it = j.find("tasks"); it != j.end() && it->is_number_unsigned()) t.tasks = it->get<std::uint64_t>();
  t.p50 = number("task_p50_s");
  t.p99 = number("task_p99_s");
  t.p999 = number("task_p999_s");
  t.max = number("task_max_s");
  return t;
}

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

// The figures of a run by command: its --json report (the job's own elapsed
// time and rate) and wait4's rusage of the process and its reaped workers.
result<point_sample> command_sample(const std::string& text, int exit_status, const rusage& ru, double peak_pss) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return status::internal("the run's command wrote no JSON report (exit status " + std::to_string(exit_status) + ")");
  if (exit_status != 0 || j.contains("error")) {
    const std::string error = j.value("error", "exit status " + std::to_string(exit_status));
    return exit_status == 2 ? status::invalid_argument(error) : status::task_failed(error);
  }
  point_sample s;
  s.wall_s = j.value("elapsed_s", 0.0);
  for (const auto& [key, value] : j.items()) {
    constexpr std::string_view suffix = "_per_s";
    if (key.size() > suffix.size() && key.ends_with(suffix) && value.is_number()) {
      s.unit = key.substr(0, key.size() - suffix.size());
      s.items = value.get<double>() * s.wall_s;
    }
  }
  s.failures = j.value("failures", std::uint64_t{0});
  s.tasks = task_latency_of_json(j);
  s.user_s = seconds(ru.ru_utime);
  s.sys_s = seconds(ru.ru_stime);
  s.voluntary_switches = ru.ru_nvcsw;
  s.involuntary_switches = ru.ru_nivcsw;
  s.max_rss_kib = static_cast<double>(ru.ru_maxrss);
  s.peak_pss_kib = peak_pss;
  return s;
}

[[noreturn]] void child_main(int fd, const workload& w, const sweep_point& p, const std::string& dir) {
  // The sweep's process blocks its stop signals for its signal waiter: here
  // they are unblocked, so Ctrl-C ends the run at once with their default
  // action (a signal ignored when scalekit started stays ignored).
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
  if (w.command) {  // a job of another executable: scalekit --json, its report on the pipe
    std::vector<std::string> args{"scalekit", "-q", "--json"};
    for (auto& a : w.command(p.size, dir, p)) args.push_back(std::move(a));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::dup2(fd, 1) == 1) ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
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
      out.tasks = task_latency_of(*rep);
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

task_latency task_latency_of(const core::report& rep) {
  task_latency t;
  if (const auto* v = rep.find("tasks"); v != nullptr)
    if (const auto* n = std::get_if<std::uint64_t>(v)) t.tasks = *n;
  t.p50 = seconds_field(rep, "task_p50_s");
  t.p99 = seconds_field(rep, "task_p99_s");
  t.p999 = seconds_field(rep, "task_p999_s");
  t.max = seconds_field(rep, "task_max_s");
  return t;
}

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
  // Read what the child sends; a command's tree is sampled for PSS from here.
  std::string data;
  double peak_pss = 0;
  bool stopped = false;
  auto last_tick = std::chrono::steady_clock::now();
  const bool by_command = static_cast<bool>(w.command);
  while (true) {
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, by_command ? 20 : 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      char buf[4096];
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the child is done (or died)
      data.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (by_command) peak_pss = std::max(peak_pss, pss_of_tree(std::to_string(pid)));
    if (std::chrono::steady_clock::now() - last_tick < std::chrono::milliseconds(100)) continue;
    last_tick = std::chrono::steady_clock::now();
    if (tick && tick()) {
      stopped = true;
      ::kill(pid, SIGTERM);
      break;
    }
  }
  ::close(fds[0]);
  int st = 0;
  rusage ru{};
  while (::wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
  }
  const bool complete = by_command ? WIFEXITED(st) && WEXITSTATUS(st) != 127 : data.size() == sizeof(wire);
  // Ctrl-C reaches the child too, which dies of it at once: give the parent's
  // signal waiter a moment to turn the same signal into a stop request.
  if (!stopped && !complete && WIFSIGNALED(st) &&
      (WTERMSIG(st) == SIGINT || WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGHUP) && tick)
    for (int i = 0; i < 50 && !stopped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      stopped = tick();
    }
  if (stopped) return status::cancelled("the sweep was stopped");
  if (!complete) {
    const std::string how = WIFSIGNALED(st) ? fmt::format("killed by signal {}", WTERMSIG(st))
                                            : fmt::format("exit status {}", WEXITSTATUS(st));
    return status::internal(fmt::format("the run's process ended without its figures ({})", how));
  }
  if (by_command) return command_sample(data, WEXITSTATUS(st), ru, peak_pss);
  wire in{};
  std::memcpy(&in, data.data(), sizeof in);
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
  s.tasks = in.tasks;
  return s;
}

}  // namespace scalekit::scale
