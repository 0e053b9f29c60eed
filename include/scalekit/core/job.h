#pragma once
// The one shape of every job: options in, an executor given, an observer
// watching, a report out.
//
//   result<core::report> run(const options&, core::executor&, core::observer&);
//
// A job owns its work: it validates its options, turns the work into task calls
// on the executor it was given, streams its results and per-item messages to the
// observer, watches the observer's stop token, and returns what it did as a
// report. The command line, the HTTP server and the scalability sweeps call
// jobs through this entry alone; none of them knows how a job batches or
// encodes its tasks.
//
// A service (dns, sort-service, dummyimage, worker) has the same shape without
// an executor argument when it makes its own: it serves until the observer's
// stop token fires, then returns its report.
//
// Errors: a job returns invalid_argument only for bad options (the command
// line's exit status 2); cancelled when it stopped because a stop was
// requested; any other status when it could not run at all. Items that failed
// while the rest went on are not an error: they are messages to the observer
// and a count in report::failures.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace scalekit::core {

class executor;
struct report_field;

/// Records of a list field (one per worker, per URL, ...): each a list of fields.
using report_record = std::vector<report_field>;

/// A value in a report. Durations appear in seconds in JSON (give their keys
/// an "_s" suffix) and as "12.3ms" in the summary line.
using report_value = std::variant<bool, std::int64_t, std::uint64_t, double, std::string, std::chrono::nanoseconds,
                                  std::vector<report_record>>;

/// One named fact of a report.
struct report_field {
  std::string key;  ///< the JSON key, snake_case
  report_value value;
  std::string text;  ///< the summary line's words, "{}" standing for the value; empty: JSON only
};

/// What a job did: the one source of its summary line and of its --json object,
/// both rendered by this class, so the two cannot drift apart.
///
/// Summary line: "<job>: <work> in <elapsed> s (<items/elapsed> <unit>/s) [<texts>]".
/// JSON object: {"job": ..., "elapsed_s": ..., "<unit>_per_s": ..., "failures": ...,
/// <every field>}.
/// Not thread-safe: one thread builds it.
class report {
 public:
  report() = default;
  explicit report(std::string job_name) : job(std::move(job_name)) {}

  std::string job;   ///< "mandelbrot", "primes check"
  std::string work;  ///< the summary's head: what was done ("640x480 n=1000 -> m.png")
  std::chrono::nanoseconds elapsed{0};
  double items = 0;  ///< units of work done, for the rate
  std::string unit;  ///< "pixels", "numbers"; empty: no rate
  /// Items that failed or were bad inputs while the rest went on. The command
  /// line's exit status is 1 when it is not zero.
  std::uint64_t failures = 0;

  /// Add a field, or replace the value and text of the field with that key.
  /// `text` is how the summary line shows it, "{}" standing for the value
  /// ("{} tasks"); empty keeps it out of the line (say why where you do it:
  /// usually because `work` already says it).
  report& add(std::string key, report_value value, std::string text = "{}");
  /// The field's value, or nullptr.
  [[nodiscard]] const report_value* find(std::string_view key) const;
  [[nodiscard]] const std::vector<report_field>& fields() const noexcept { return fields_; }

  [[nodiscard]] std::string summary_line() const;
  /// One line of JSON (no newline). Strings that are not valid UTF-8 get
  /// U+FFFD for each bad byte; non-finite numbers become null.
  [[nodiscard]] std::string to_json() const;

 private:
  std::vector<report_field> fields_;
};

/// Append `s` to `out` as a JSON string (quoted and escaped). Bytes that are
/// not UTF-8 become U+FFFD, one per byte, so the document stays valid.
void append_json_string(std::string& out, std::string_view s);
/// `s` with each byte that is not UTF-8 replaced by U+FFFD (for text formats
/// that must be UTF-8 but have no escape for a byte, as Prometheus' label values).
std::string valid_utf8(std::string_view s);

/// The summary's view of an executor: "<kind> -j N", tasks, retries and the
/// latency of the task bodies, as fields of `r`: task_p50_s, task_p99_s,
/// task_p999_s and task_max_s (each the upper bound of its ~6% histogram
/// bucket, capped at the exact maximum, so p50 <= p99 <= p99.9 <= max),
/// present when a task ran in this process or its worker processes (the
/// distributed executor does not time the bodies its workers run). The one
/// place the jobs' per-task latency comes from: `scale` reads these fields.
void add_executor_fields(report& r, const executor& ex);

/// What a job reports to while it runs, and how it is asked to stop.
///
/// The default implementation drops everything and never stops; the command
/// line prints (results to stdout, messages and progress to stderr), tests
/// collect (collecting_observer), the HTTP server writes to its response.
/// progress() and message() may be called from any thread, concurrently;
/// output() calls are serialized by the job.
class observer {
 public:
  observer() = default;
  explicit observer(std::stop_token stop) : stop_(std::move(stop)) {}
  virtual ~observer() = default;
  observer(const observer&) = delete;
  observer& operator=(const observer&) = delete;

  /// `done` of `total` `unit`s are finished (total 0: open-ended work). Cheap
  /// to call often: an implementation rate-limits what it shows.
  virtual void progress(std::uint64_t done, std::uint64_t total, std::string_view unit);
  /// Results: one or more whole lines, each ending in '\n', in the job's
  /// output order.
  virtual void output(std::string_view lines);
  /// One line (no '\n') about an item that failed or was skipped, or about the
  /// run (a retry, a replaced worker). The line names the item and the problem.
  virtual void message(std::string_view line);

  [[nodiscard]] const std::stop_token& stop_token() const noexcept { return stop_; }
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.stop_requested(); }

 private:
  std::stop_token stop_;
};

/// Cancels `ex` (executor::cancel()) when the observer's stop is requested,
/// for as long as it lives: how a job stops the work it gave an executor
/// promptly. Construct it after the last thing that must not be cancelled.
class cancel_on_stop {
 public:
  cancel_on_stop(executor& ex, const observer& obs) : callback_(obs.stop_token(), canceller{&ex}) {}

 private:
  struct canceller {
    executor* ex;
    void operator()() const noexcept;
  };
  std::stop_callback<canceller> callback_;
};

/// An observer that keeps what it is told, for tests and for callers that want
/// the results as a value. Thread-safe.
class collecting_observer : public observer {
 public:
  using observer::observer;
  void progress(std::uint64_t done, std::uint64_t total, std::string_view unit) override;
  void output(std::string_view lines) override;
  void message(std::string_view line) override;
  /// Everything output() was given, concatenated.
  [[nodiscard]] std::string text() const;
  [[nodiscard]] std::vector<std::string> messages() const;
  /// The last (done, total) progress() reported.
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> last_progress() const;

 private:
  mutable std::mutex mutex_;
  // State below is protected by mutex_.
  std::string text_;
  std::vector<std::string> messages_;
  std::pair<std::uint64_t, std::uint64_t> progress_{0, 0};
};

}  // namespace scalekit::core
