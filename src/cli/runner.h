#pragma once
// How a command runs its job: flags were translated into the job's options;
// run_job() gives the job an observer that prints, prints the job's report
// (the summary line on stderr, the --json object on stdout) and turns the
// outcome into the exit status of the command-line contract.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::cli {

/// Exit statuses of the command-line contract (a stop signal: 128 + signal).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;  ///< the job ran and failed, or some of its items did
inline constexpr int exit_usage = 2;   ///< bad arguments
/// Standard output was a closed pipe (`scalekit ... | head -1`): the job
/// stopped quietly, with the status a shell reports for a tool that SIGPIPE
/// killed (128 + 13), as Unix tools end there.
inline constexpr int exit_broken_pipe = 141;

/// Thrown by a command for bad usage that CLI11 cannot see (a value out of
/// range, a combination of flags): printed as one line, exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Global flags, set before any subcommand runs.
struct global_options {
  bool json = false;
  bool quiet = false;
  int exit_code = 0;  ///< set by the command that ran
  /// The job stopped because a stop signal asked: the program ends as that
  /// signal does (status 128 + signal). A service that stops on a signal
  /// has simply ended: status 0.
  bool stopped_by_signal = false;
};
global_options& globals();

/// HOST:PORT from the command line (--listen, --connect).
struct endpoint {
  std::string host;
  std::uint16_t port;
};
/// @throws usage_error when `text` is not HOST:PORT with a port in 0..65535.
endpoint parse_endpoint(const std::string& text);

/// Progress on stderr: a live line when stderr is a terminal (after half a
/// second), otherwise a line every 10 seconds; nothing under --quiet or --json.
/// Not thread-safe.
class progress_line {
 public:
  explicit progress_line(std::string job) : job_(std::move(job)), start_(std::chrono::steady_clock::now()) {}
  ~progress_line() { finish(); }
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;
  void update(std::uint64_t done, std::uint64_t total, std::string_view unit);
  /// Erase the live line.
  void finish();

 private:
  std::string job_;
  std::chrono::steady_clock::time_point start_, last_{};
  bool drawn_ = false;
};

/// The command line's observer: results to stdout as they come (flushed at
/// each output() call), each message as one line "scalekit <job>: <line>" on
/// stderr, progress as a progress_line. Stops when the process's stop signals
/// ask. Thread-safe.
///
/// The first write to stdout that fails (EPIPE, ENOSPC, EIO...) stops the job
/// as a stop signal would (stop_signals::request_stop), and nothing more is
/// written there; write_error() then says why, and run_job() reports it.
///
/// Under --json stdout holds one JSON document and nothing else, streamed so
/// that memory stays flat however many results come:
///   {"lines":["<result line>", ...], <the report's fields>}
/// Each output line becomes a string of "lines" as it comes (without its
/// '\n'; so no report may have a field named "lines"); close_json() ends
/// the document with the report's fields, or with "job" and "error" when the
/// job failed.
class terminal_observer final : public core::observer {
 public:
  explicit terminal_observer(std::string job);
  ~terminal_observer() override;
  void progress(std::uint64_t done, std::uint64_t total, std::string_view unit) override;
  void output(std::string_view lines) override;
  void message(std::string_view line) override;
  /// Erase the live progress line (before the summary is printed).
  void finish();
  /// --json: end the document: `object` is a JSON object ("{...}") whose
  /// fields follow "lines". Once; output() must not be called after it.
  void close_json(const std::string& object);
  /// The errno of the first failed write to stdout; 0 while none failed.
  [[nodiscard]] int write_error() const noexcept { return write_error_.load(); }

 private:
  void open_json();                    // REQUIRES out_mutex_ held
  void write_out(std::string_view s);  // REQUIRES out_mutex_ held: fwrite + fflush, errors recorded
  std::atomic<int> write_error_{0};
  std::string job_;
  std::mutex mutex_;
  progress_line progress_;  // guarded by mutex_
  std::mutex out_mutex_;
  bool json_open_ = false;  // guarded by out_mutex_: "{"lines":[" written
  bool json_first_ = true;  // guarded by out_mutex_: no line in "lines" yet
};

/// Print one error line on stderr: "scalekit <job>: <message>".
void print_error(std::string_view job, std::string_view message);

/// A job as a command runs it: given the observer, it returns the report.
using job_body = std::function<result<core::report>(core::observer&)>;

/// Run a command's job and record its exit status in globals():
/// - a report: summary line on stderr (not under --quiet); status 1 when
///   report.failures > 0, else 0;
/// - a usage_error thrown, or an invalid_argument status: one line, status 2;
/// - a cancelled status after a stop signal: nothing printed, and the
///   program then ends as the signal does (globals().stopped_by_signal);
/// - any other status or exception: one line, status 1;
/// - stdout could not be written (the observer's write_error()): the job was
///   stopped; "cannot write to standard output: <reason>", status 1, or for
///   a closed pipe nothing printed and status exit_broken_pipe (141). This
///   wins over the job's own outcome: its results were lost.
/// Under --json stdout gets one JSON document in every case:
/// {"lines":[...], <the report's fields>} or, when the job did not give a
/// report, {"lines":[...], "job": ..., "error": "<the one-line message>"}.
void run_job(const std::string& job, const job_body& body);

}  // namespace scalekit::cli
