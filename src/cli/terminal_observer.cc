// The command line's observer: results to stdout (or one streamed JSON
// document), messages and progress to stderr (runner.h says how).

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>

#include "runner.h"
#include "scalekit/core/signals.h"

namespace scalekit::cli {

void progress_line::update(std::uint64_t done, std::uint64_t total, std::string_view unit) {
  if (globals().quiet || globals().json) return;
  const auto now = std::chrono::steady_clock::now();
  const bool tty = ::isatty(2) != 0;
  const auto every = tty ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10000);
  // Short jobs stay quiet: a terminal gets a live line after half a second, a
  // log or pipe its first line after 10 s.
  const auto first = tty ? std::chrono::milliseconds(500) : every;
  if (now - start_ < first || now - last_ < every) return;
  last_ = now;
  // total 0: open-ended work, a count without a percentage.
  const std::string text =
      total == 0 ? fmt::format("{}: {} {}", job_, done, unit)
                 : fmt::format("{}: {:5.1f}% ({}/{} {})", job_,
                               100.0 * static_cast<double>(done) / static_cast<double>(total), done, total, unit);
  if (tty) {
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
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

terminal_observer::terminal_observer(std::string job)
    : core::observer(core::stop_signals::install().token()), job_(job), progress_(std::move(job)) {}

terminal_observer::~terminal_observer() { finish(); }

void terminal_observer::progress(std::uint64_t done, std::uint64_t total, std::string_view unit) {
  std::scoped_lock lock(mutex_);
  progress_.update(done, total, unit);
}

// Results appear as they come, through a pipe too: flushed at each write.
// The first failure (a closed pipe, a full disk) is kept, and stops the job:
// going on would compute results nobody can receive.
void terminal_observer::write_out(std::string_view s) {
  if (write_error_.load() != 0) return;
  errno = 0;
  const bool written = std::fwrite(s.data(), 1, s.size(), stdout) == s.size();
  if (written && std::fflush(stdout) == 0) return;
  write_error_.store(errno != 0 ? errno : EIO);
  core::stop_signals::install().request_stop(0);
}

void terminal_observer::output(std::string_view lines) {
  std::scoped_lock lock(out_mutex_);
  if (!globals().json) {
    write_out(lines);
    return;
  }
  open_json();
  std::string text;
  for (std::size_t at = 0; at < lines.size();) {
    const auto nl = lines.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? lines.size() : nl;
    if (!json_first_) text += ',';
    json_first_ = false;
    core::append_json_string(text, lines.substr(at, end - at));
    at = end + 1;
  }
  write_out(text);
}

void terminal_observer::open_json() {
  if (json_open_) return;
  write_out("{\"lines\":[");
  json_open_ = true;
}

void terminal_observer::close_json(const std::string& object) {
  std::scoped_lock lock(out_mutex_);
  open_json();
  // fields after "lines"
  write_out(object.size() > 2 ? "]," + object.substr(1) + "\n" : std::string("]}\n"));
}

void terminal_observer::message(std::string_view line) {
  std::scoped_lock lock(mutex_);
  progress_.finish();  // a live line would run into the message
  print_error(job_, line);
}

void terminal_observer::finish() {
  {
    std::scoped_lock lock(out_mutex_);
    write_out("");  // what is still buffered, and its error
  }
  std::scoped_lock lock(mutex_);
  progress_.finish();
}

}  // namespace scalekit::cli
