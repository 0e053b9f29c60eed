// The command line's observer: results to stdout (or one streamed JSON
// document), messages and progress to stderr (runner.h says how).

#include <unistd.h>

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

void terminal_observer::output(std::string_view lines) {
  std::scoped_lock lock(out_mutex_);
  if (!globals().json) {
    std::fwrite(lines.data(), 1, lines.size(), stdout);
    std::fflush(stdout);  // results appear as they come, through a pipe too
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
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void terminal_observer::open_json() {
  if (json_open_) return;
  std::fputs("{\"lines\":[", stdout);
  json_open_ = true;
}

void terminal_observer::close_json(const std::string& object) {
  std::scoped_lock lock(out_mutex_);
  open_json();
  std::fputs("]", stdout);
  if (object.size() > 2) {  // fields after "lines"
    std::fputc(',', stdout);
    std::fwrite(object.data() + 1, 1, object.size() - 1, stdout);
  } else {
    std::fputc('}', stdout);
  }
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void terminal_observer::message(std::string_view line) {
  std::scoped_lock lock(mutex_);
  progress_.finish();  // a live line would run into the message
  print_error(job_, line);
}

void terminal_observer::finish() {
  std::fflush(stdout);
  std::scoped_lock lock(mutex_);
  progress_.finish();
}

}  // namespace scalekit::cli
