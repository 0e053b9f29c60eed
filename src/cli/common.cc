#include "common.h"

#include "scalekit/taskqueue/client.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace scalekit::cli {

global_options& globals() {
  static global_options g;
  return g;
}

endpoint parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw usage_error("'" + text + "': expected HOST:PORT");
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    throw usage_error("'" + text + "': bad port");
  return {text.substr(0, colon), static_cast<std::uint16_t>(std::stoul(port))};
}

void executor_flags::add_to(CLI::App& cmd, const std::string& allowed, const std::string& default_kind) {
  executor = default_kind;
  std::vector<std::string> kinds;
  std::string rest = allowed;
  for (std::size_t pos; (pos = rest.find(',')) != std::string::npos; rest.erase(0, pos + 1))
    kinds.push_back(rest.substr(0, pos));
  kinds.push_back(rest);
  cmd.add_option("--executor", executor, "how to run the work: " + allowed)
      ->check(CLI::IsMember(kinds))
      ->capture_default_str();
  cmd.add_option("-j,--jobs", jobs, "parallel workers (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  if (std::find(kinds.begin(), kinds.end(), "distributed") != kinds.end()) {
    cmd.add_option("--broker", broker, "distributed: redis://[:PASSWORD@]HOST[:PORT][/DB] of the Celery workers")
        ->capture_default_str();
    cmd.add_flag("--native-tasks", native_tasks,
                 "distributed: send scalekit.run tasks (fewer, larger; scalekit workers only) instead of the seed's "
                 "Celery tasks, which Python workers also run");
    cmd.add_option("--resend-after", resend_after_s, "distributed: publish again a task with no result after SECONDS")
        ->check(CLI::Range(0.0, 86400.0));
  }
}

core::executor_kind executor_flags::kind() const { return *core::parse_executor_kind(executor); }

std::unique_ptr<core::executor> executor_flags::make() const {
  if (kind() == core::executor_kind::distributed) {
    taskqueue::distributed_options d;
    d.broker = broker;
    d.celery_tasks = !native_tasks;
    d.jobs = jobs;
    d.resend_after = std::chrono::milliseconds(static_cast<long>(resend_after_s * 1000));
    d.log = [](const std::string& line) {
      std::fprintf(stderr, "scalekit: distributed: %s\n", line.c_str());
      std::fflush(stderr);
    };
    try {
      return taskqueue::make_distributed_executor(d);
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string("--broker: ") + e.what());
    }
  }
  core::executor_options o;
  o.jobs = effective_jobs();
  o.task_timeout = std::chrono::milliseconds(static_cast<long>(task_timeout_s * 1000));
  o.max_attempts = max_attempts;
  spdlog::debug("executor {} with {} workers", executor, o.jobs);
  try {
    return core::make_executor(kind(), o);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

void progress_line::update(std::uint64_t done, std::uint64_t total, const char* unit) {
  if (globals().quiet || globals().json) return;
  const auto now = std::chrono::steady_clock::now();
  const bool tty = ::isatty(2) != 0;
  const auto every = tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10000);
  // Short jobs stay quiet: a terminal gets a live line after half a second, a
  // log or pipe its first line after 10 s.
  const auto first = tty ? std::chrono::milliseconds(500) : every;
  if (now - start_ < first || now - last_ < every) return;
  last_ = now;
  const auto d = static_cast<unsigned long long>(done), n = static_cast<unsigned long long>(total);
  // total 0: open-ended work, a count without a percentage.
  const std::string text =
      total == 0 ? fmt::format("{}: {} {}", job_, d, unit)
                 : fmt::format("{}: {:5.1f}% ({}/{} {})", job_,
                               100.0 * static_cast<double>(done) / static_cast<double>(total), d, n, unit);
  if (tty) {
    std::fprintf(stderr, "\r%s", text.c_str());
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

void progress_line::finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }
}

void print_summary(const std::string& job, const std::string& work, std::chrono::nanoseconds elapsed, double items,
                   const char* unit, const std::string& details) {
  if (globals().quiet) return;
  const double secs = std::chrono::duration<double>(elapsed).count();
  const double rate = secs > 0 ? items / secs : 0;
  std::string line = fmt::format("{}: {} in {:.3f} s ({:.4g} {}/s)", job, work, secs, rate, unit);
  if (!details.empty()) line += " [" + details + "]";
  std::fprintf(stderr, "%s\n", line.c_str());
}

void start_process() {
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error to report, not a silent death
  spdlog::set_default_logger(spdlog::stderr_color_mt("scalekit"));
  spdlog::set_pattern("scalekit: %^%l%$: %v");
}

void setup_app(CLI::App& app) {
  app.description(
      "scalekit: the scalable programs of the seed chapters, built for real and measured.\n"
      "Results go to stdout, logs and progress to stderr. Exit status: 0 ok, 1 failed job, 2 bad usage.");
  app.name("scalekit");
  app.set_version_flag("--version", "scalekit " SCALEKIT_VERSION);
  app.require_subcommand(1);
  app.add_flag("--json", globals().json, "print a machine-readable summary on stdout");
  app.add_flag("-q,--quiet", globals().quiet, "no progress or summary on stderr");
  app.add_flag_callback(
      "-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); }, "debug logging on stderr");
  app.fallthrough();  // global flags work after the subcommand too
}

int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "scalekit: %s (see --help)\n", e.what());
    return exit_usage;
  }
  return globals().exit_code;
}

void print_error(const std::string& job, const std::string& message) {
  std::fprintf(stderr, "scalekit %s: %s\n", job.c_str(), message.c_str());
}

}  // namespace scalekit::cli

namespace scalekit::cli {

void run_job(const std::string& job, const std::function<int()>& body) {
  try {
    globals().exit_code = body();
  } catch (const usage_error& e) {
    print_error(job, e.what());
    globals().exit_code = exit_usage;
  } catch (const std::exception& e) {
    print_error(job, e.what());
    globals().exit_code = exit_failed;
  }
}

}  // namespace scalekit::cli

namespace scalekit::cli {

namespace {
char doomed_path[4096];  // read by the signal handler: a plain buffer, no allocation

extern "C" void remove_and_reraise(int sig) {
  if (doomed_path[0] != '\0') ::unlink(doomed_path);  // async-signal-safe
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}
}  // namespace

void remove_on_signal(const std::string& path) {
  static bool installed = false;
  if (!installed) {
    struct sigaction sa {};
    sa.sa_handler = remove_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      ::sigaction(sig, nullptr, &old);
      if (old.sa_handler != SIG_IGN) ::sigaction(sig, &sa, nullptr);  // an inherited "ignore" stays (nohup)
    }
    installed = true;
  }
  // Block the signals while the buffer changes, so the handler never sees half a path.
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  const std::size_t n = std::min(path.size(), sizeof doomed_path - 1);
  std::memcpy(doomed_path, path.data(), n);
  doomed_path[n] = '\0';
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace scalekit::cli
