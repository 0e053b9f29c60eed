// search::run: the job's one entry: load the corpus, then answer the queries
// (from the options, or read from a descriptor as they come) in order, with
// several in flight.

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/core/line_reader.h"
#include "scalekit/core/stats.h"
#include "scalekit/jobs/search/search.h"

namespace scalekit::jobs::search {

namespace {

// Wakes a wait for input from any thread: an answer that arrived, a stop
// request. Shared with the completion callbacks, so a late one never writes
// to a closed descriptor.
class waker {
 public:
  waker() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~waker() {
    if (fd_ >= 0) ::close(fd_);
  }
  waker(const waker&) = delete;
  waker& operator=(const waker&) = delete;
  [[nodiscard]] int fd() const noexcept { return fd_; }
  void wake() const noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);  // the counter only grows: never blocks
  }
  void drain() const noexcept {
    std::uint64_t count;
    [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);
  }

 private:
  int fd_;
};

// Queries from a descriptor, read as they come: core::line_reader (each line
// at most 64 KiB, so `search DIR < /dev/zero` ends with an error instead of
// filling memory), waiting for input with poll() beside a waker.
class query_reader {
 public:
  enum class event { line, end, woken };
  query_reader(int fd, std::shared_ptr<const waker> w) : in_(fd, "stdin"), fd_(fd), waker_(std::move(w)) {}

  /// The next line (without its '\n', nor a '\r' before it), the end of the
  /// input (a last line without '\n' comes first; error() says when it ended
  /// early), or a wake-up. Blocks until one of them.
  event next(std::string& line) {
    for (;;) {
      const auto ev = in_.take(line);
      if (ev == core::line_reader::event::line) return event::line;
      if (ev == core::line_reader::event::end) return event::end;
      pollfd fds[2] = {{fd_, POLLIN, 0}, {waker_->fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        poll_error_ = status::io_error(std::string("cannot wait for the queries: ") + std::strerror(errno));
        return event::end;
      }
      if (fds[1].revents != 0) {
        waker_->drain();
        return event::woken;
      }
      if (fds[0].revents != 0) in_.read_some();
    }
  }
  /// What ended the input early: a read error, a line too long (OK when nothing did).
  [[nodiscard]] status error() const { return poll_error_.ok() ? in_.error() : poll_error_; }

 private:
  core::line_reader in_;
  int fd_;
  std::shared_ptr<const waker> waker_;
  status poll_error_;
};

std::string mib_text(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

result<core::report> run(const options& o, core::executor& ex, core::observer& obs) {
  const core::cancel_on_stop stop_guard(ex, obs);  // nothing here must finish: a stop ends loading and queries
  const auto t0 = std::chrono::steady_clock::now();
  auto opened = engine::open(
      ex, o.dir, o.engine, [&](const std::string& msg) { obs.message(msg); }, obs.stop_token());
  if (!opened.ok()) {
    if (obs.stop_requested()) return status::cancelled("search stopped while loading");
    // A DIR that is not a directory is a failed job, not bad usage (exit status 1).
    if (opened.error().code() == status_code::invalid_argument) return status::io_error(opened.error().message());
    return opened.error();
  }
  engine& e = *opened.value();
  const load_report& loaded = e.report();
  const auto t_loaded = std::chrono::steady_clock::now();

  // Queries in flight, answered in the order they were asked.
  const auto wake = std::make_shared<const waker>();
  const std::stop_callback wake_on_stop(obs.stop_token(), [wake] { wake->wake(); });
  core::latency_histogram latency;
  std::uint64_t asked = 0, matching = 0, failed = 0;
  std::deque<std::pair<std::string, std::future<result<matches>>>> window;
  auto deliver_oldest = [&] {
    auto [text, answer] = std::move(window.front());
    window.pop_front();
    auto r = answer.get();
    if (!r.ok()) {
      if (obs.stop_requested()) return;  // cancelled by the stop: not a failed query
      ++failed;
      obs.message("query '" + core::printable(text) + "': " + r.error().message());
      return;
    }
    matching += r->lines;
    // No progress() per answer: a live progress line on a terminal would run
    // into the answers printed there.
    if (!r->text.empty()) obs.output(r->text);
    if (o.interactive) obs.message("(" + std::to_string(r->lines) + " lines)");
  };
  auto deliver_ready = [&] {
    while (!window.empty() && window.front().second.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      deliver_oldest();
  };
  const std::size_t limit = o.interactive ? 1 : std::max<std::size_t>(1, o.in_flight);  // a person waits for each
  auto ask = [&](std::string text) {
    while (window.size() >= limit) deliver_oldest();
    ++asked;
    auto p = std::make_shared<std::promise<result<matches>>>();
    window.emplace_back(text, p->get_future());
    const auto start = std::chrono::steady_clock::now();
    e.submit(std::move(text), [p, start, &latency, wake](result<matches> r) {
      latency.record(std::chrono::steady_clock::now() - start);
      p->set_value(std::move(r));
      wake->wake();  // an answer may be output while the job waits for input
    });
  };

  if (!o.queries.empty()) {
    for (const auto& q : o.queries) {
      if (obs.stop_requested()) break;
      ask(q);
      deliver_ready();
    }
  } else if (o.query_fd >= 0) {
    if (o.interactive)
      obs.message("loaded " + std::to_string(loaded.files) + " files (" + std::to_string(loaded.lines) + " lines, " +
                  mib_text(loaded.bytes) + " MiB) in " + std::to_string(loaded.shares) + " shares in " +
                  core::format_duration(t_loaded - t0) + "; type a query per line, Ctrl-D to end");
    query_reader input(o.query_fd, wake);
    std::string line;
    for (;;) {
      deliver_ready();
      if (obs.stop_requested()) break;
      const auto ev = input.next(line);
      if (ev == query_reader::event::end) break;
      if (ev == query_reader::event::woken) continue;
      if (!line.empty()) ask(std::move(line));  // an empty line is no query (it would match every line)
    }
    if (const status error = input.error(); !error.ok()) {
      ++failed;
      obs.message("cannot read the queries: " + error.message());
    }
  }
  while (!window.empty()) deliver_oldest();
  if (obs.stop_requested()) return status::cancelled("search stopped");
  const auto t_end = std::chrono::steady_clock::now();

  core::report r("search");
  r.work = std::to_string(loaded.files) + " files (" + std::to_string(loaded.lines) + " lines, " +
           mib_text(loaded.bytes) + " MiB) in " + std::to_string(loaded.shares) + " shares, " +
           std::to_string(loaded.binary) + " binary skipped, " + std::to_string(loaded.failed) + " unreadable; " +
           std::to_string(asked) + " queries, " + std::to_string(matching) + " matching lines, " +
           std::to_string(failed) + " failed";
  r.elapsed = t_end - t0;
  r.items = static_cast<double>(asked);
  r.unit = "queries";
  r.failures = loaded.failed + failed;
  // The head says these.
  r.add("files", loaded.files, "");
  r.add("text_lines", loaded.lines, "");  // not "lines": --json's results are "lines"
  r.add("bytes", loaded.bytes, "");
  r.add("binary_skipped", loaded.binary, "");
  r.add("unreadable", loaded.failed, "");
  r.add("shares", static_cast<std::uint64_t>(loaded.shares), "");
  r.add("queries", asked, "");
  r.add("matching_lines", matching, "");
  r.add("failed_queries", failed, "");
  core::add_executor_fields(r, ex);
  r.add("load_s", std::chrono::nanoseconds(t_loaded - t0), "load {}");
  r.add("query_p50_s", latency.percentile(0.5), "query latency p50 {}");
  r.add("query_p99_s", latency.percentile(0.99), "p99 {}");
  // The same in microseconds, the keys scripts/bench reads.
  r.add("query_p50_us", static_cast<double>(latency.percentile(0.5).count()) / 1e3, "");
  r.add("query_p99_us", static_cast<double>(latency.percentile(0.99).count()) / 1e3, "");
  return r;
}

}  // namespace scalekit::jobs::search
