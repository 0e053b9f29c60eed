#pragma once
// Shared pieces of the scalekit command line: exit codes, the common executor
// flags, job summaries and progress. Keeps each subcommand file short.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "scalekit/core/executor.h"

namespace CLI {
class App;
}

namespace scalekit::cli {

/// Exit statuses of the command-line contract.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;  ///< the job ran and failed
inline constexpr int exit_usage = 2;   ///< bad arguments

/// Thrown by a subcommand for bad usage that CLI11 cannot see (a value out of
/// range, a combination of flags): printed as one line, exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// HOST:PORT from the command line (--listen, --connect).
struct endpoint {
  std::string host;
  std::uint16_t port;
};
/// @throws usage_error when `text` is not HOST:PORT with a port in 0..65535.
endpoint parse_endpoint(const std::string& text);

/// Global flags, set before any subcommand runs.
struct global_options {
  bool json = false;
  bool quiet = false;
  int exit_code = 0;  ///< set by the subcommand that ran
};
global_options& globals();

/// --executor and -j/--jobs, as a subcommand declares them (and, where
/// `distributed` is allowed, --broker, --native-tasks and --resend-after).
struct executor_flags {
  std::string executor = "threads";
  std::size_t jobs = 0;  ///< 0: number of cores (distributed: the live workers' slots)
  std::string broker = "redis://127.0.0.1:6379/0";
  bool native_tasks = false;
  double resend_after_s = 0;
  double task_timeout_s = 0;  ///< processes: kill a worker whose call runs longer (0: no limit)
  int max_attempts = 2;       ///< processes: runs of a call that may die with its worker
  /// Add --executor (restricted to `allowed`, comma-separated) and -j/--jobs to `cmd`.
  void add_to(CLI::App& cmd, const std::string& allowed, const std::string& default_kind);
  [[nodiscard]] core::executor_kind kind() const;
  [[nodiscard]] std::size_t effective_jobs() const { return jobs == 0 ? core::default_jobs() : jobs; }
  /// Builds the executor; @throws usage_error when it cannot be built here.
  [[nodiscard]] std::unique_ptr<core::executor> make() const;
};

/// Progress on stderr: a live line when stderr is a terminal, otherwise a line
/// every 10 seconds; nothing under --quiet or --json.
class progress_line {
 public:
  explicit progress_line(std::string job) : job_(std::move(job)), start_(std::chrono::steady_clock::now()) {}
  ~progress_line() { finish(); }
  void update(std::uint64_t done, std::uint64_t total, const char* unit);
  void finish();

 private:
  std::string job_;
  std::chrono::steady_clock::time_point start_, last_{};
  bool drawn_ = false;
};

/// The one-line summary every job prints on stderr at its end:
/// "<job>: <work> in <elapsed> (<rate>) [<details>]".
void print_summary(const std::string& job, const std::string& work, std::chrono::nanoseconds elapsed, double items,
                   const char* unit, const std::string& details);

/// Print one error line: "scalekit <job>: <message>".
void print_error(const std::string& job, const std::string& message);

/// Run a subcommand body and record its exit status in globals(): usage_error
/// prints one line and gives 2, any other exception one line and 1.
void run_job(const std::string& job, const std::function<int()>& body);

/// Remove `path` if SIGINT, SIGTERM or SIGHUP ends the program (a temporary
/// output file), then die of that signal as usual. One path at a time;
/// an empty path disarms it.
void remove_on_signal(const std::string& path);

/// Process start shared by both binaries: SIGPIPE ignored, logs to stderr.
void start_process();
/// The top-level command line: description, --version and the global flags.
void setup_app(CLI::App& app);
/// Parse the command line and run the chosen subcommand; the exit status.
int run_app(CLI::App& app, int argc, char** argv);

/// The jobs whose libraries are heavy to load live in a second binary,
/// scalekit-heavy, beside scalekit: libvips brings about 110 shared libraries
/// (some 28 ms at every start), libcurl about 25 (some 6 ms), and scalekit
/// starts often: each of its worker processes is a new start. scalekit lists
/// these subcommands and hands them over with exec.
struct heavy_command {
  const char* name;
  const char* description;
};
inline constexpr heavy_command heavy_commands[] = {
    {"fetch", "GET every URL concurrently (libcurl on the event loop): 'Response for URL <url> => <status> <length>'"},
    {"rle", "Run-length compression of 1-bit images (the seed's case study)"},
    {"thumbnail", "PNG thumbnails of a directory's images, of URLs, or of the seed's random-URL producer/consumer"},
    {"dummyimage", "An offline image-URL server: GET /<W>x<H>/<bg>/<fg>.<jpg|png>"},
};
inline constexpr const char* heavy_binary = "scalekit-heavy";
constexpr const char* heavy_command_description(std::string_view name) {
  for (const auto& c : heavy_commands)
    if (name == c.name) return c.description;
  return "";
}

// Subcommand registration: each adds itself to the app and sets its callback.
void add_mandelbrot_command(CLI::App& app);
void add_primes_command(CLI::App& app);
void add_burn_command(CLI::App& app);
void add_numbers_command(CLI::App& app);
void add_factorial_command(CLI::App& app);
void add_coop_command(CLI::App& app);
void add_sleepers_command(CLI::App& app);
void add_find_command(CLI::App& app);
void add_sort_service_command(CLI::App& app);
void add_dns_command(CLI::App& app);
void add_fetch_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_worker_command(CLI::App& app);
void add_rle_command(CLI::App& app);
void add_thumbnail_command(CLI::App& app);
void add_dummyimage_command(CLI::App& app);

}  // namespace scalekit::cli
