#include "response.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>
#include <thread>

#include "errors.h"
#include "protocol.h"

namespace scalekit::serve::wsgi {
namespace {

constexpr std::string_view error_body = "Internal Server Error\n";

}  // namespace

template <typename F>
bool response::sink_call(const char* what, F&& fn) noexcept {
  if (gone_) return false;
  try {
    if (std::forward<F>(fn)()) return true;
  } catch (const std::exception& e) {
    log_unlocked(std::string("the response sink's ") + what + "() threw: " + e.what(), {});
  } catch (...) {
    log_unlocked(std::string("the response sink's ") + what + "() threw", {});
  }
  gone_ = true;
  return false;
}

void response::wait_idle() {
  while (busy_) interpreter::without_gil(clock_, [] { std::this_thread::sleep_for(std::chrono::milliseconds(1)); });
}

void response::log(std::string_view what, std::string_view traceback) {
  unlocked([&] { log_unlocked(what, traceback); });
}

void response::log_unlocked(std::string_view what, std::string_view traceback) {
  std::string line = "wsgi app '";
  line.append(ctx_.app).append("': ").append(ctx_.method).append(" ");
  line.append(ctx_.target.substr(0, 200)).append(ctx_.target.size() > 200 ? "...: " : ": ").append(what);
  errors::log(ctx_.log != nullptr ? *ctx_.log : log_fn{}, line, traceback);
}

bool response::start_unlocked(std::optional<std::uint64_t> known_length) {
  std::vector<header_field> fields;
  fields.reserve(head_.headers.size());
  for (const auto& [name, value] : head_.headers) fields.push_back({name, value});
  response_head h;
  h.status_code = head_.code;
  h.status = head_.status;
  h.headers = fields;
  h.content_length = head_.content_length ? head_.content_length : known_length;
  head_sent_ = true;
  status_sent_ = head_.code;
  return sink_call("start", [&] { return sink_.start(h); });
}

response::sent response::write_unlocked(std::string_view chunk) {
  if (gone_) return sent::gone;
  if (full_) return sent::full;
  std::size_t allowed = chunk.size();
  const auto& limit = head_.content_length;
  const bool over = limit && sent_bytes_ + chunk.size() > *limit;
  if (over) allowed = static_cast<std::size_t>(*limit - sent_bytes_);
  if (allowed > 0) {
    if (!head_sent_ && !start_unlocked(std::nullopt)) return sent::gone;
    if (!sink_call("write", [&] { return sink_.write(chunk.substr(0, allowed)); })) return sent::gone;
    sent_bytes_ += allowed;
  }
  if (over) {
    full_ = true;
    log_unlocked(
        "the body is longer than its Content-Length (" + std::to_string(*limit) + " bytes): the rest is cut off", {});
    return sent::full;
  }
  return sent::ok;
}

// An empty piece sends nothing; once the head is out it still asks the sink
// (flush) whether the client is there, so an app that yields b"" while it
// waits learns that the client went away.
response::sent response::send(std::string_view chunk) {
  if (chunk.empty() && (gone_ || !head_sent_)) return gone_ ? sent::gone : sent::ok;
  return unlocked([&] {
    const sent s = chunk.empty() ? sent::ok : write_unlocked(chunk);
    if (s != sent::ok || !head_sent_ || sink_call("flush", [&] { return sink_.flush(); })) return s;
    return sent::gone;
  });
}

outcome response::send_all(std::span<const std::string_view> chunks) {
  return unlocked([&] {
    if (!head_sent_) {
      std::uint64_t total = 0;
      for (const auto c : chunks) total += c.size();
      bool any = false;
      for (const auto c : chunks) any = any || !c.empty();
      if (any && !head_.content_length && !start_unlocked(total)) return outcome::client_gone;
    }
    for (const auto c : chunks) {
      if (c.empty()) continue;
      const sent s = write_unlocked(c);
      if (s == sent::gone) return outcome::client_gone;
      if (s == sent::full) break;
    }
    return finish_unlocked();
  });
}

response::sent response::send_file(const file_wrapper::file_region& region) {
  return unlocked([&] {
    if (gone_) return sent::gone;
    if (full_) return sent::full;
    std::uint64_t length = region.length;
    const auto& limit = head_.content_length;
    const bool over = limit && sent_bytes_ + length > *limit;
    if (over) length = *limit - sent_bytes_;
    if (length > 0) {
      if (!head_sent_ && !start_unlocked(sent_bytes_ + region.length)) return sent::gone;
      if (!sink_call("sendfile", [&] { return sink_.sendfile(region.fd, region.offset, length); })) return sent::gone;
      sent_bytes_ += length;
    }
    if (over) {
      full_ = true;
      log_unlocked(
          "the file is longer than its Content-Length (" + std::to_string(*limit) + " bytes): the rest is cut off", {});
      return sent::full;
    }
    return sent::ok;
  });
}

outcome response::finish() {
  return unlocked([&] { return finish_unlocked(); });
}

outcome response::finish_unlocked() {
  if (gone_) return outcome::client_gone;
  const auto& limit = head_.content_length;
  const bool empty_by_definition = ctx_.method == "HEAD" || head_.code == 204 || head_.code == 304;
  if (limit && sent_bytes_ < *limit && !empty_by_definition) {
    const std::string why = "the body is " + std::to_string(sent_bytes_) + " bytes, shorter than its Content-Length (" +
                            std::to_string(*limit) + " bytes)";
    return fail_unlocked(why, {});
  }
  // A head not sent yet means no body: its length is known, 0.
  if (!head_sent_ && !start_unlocked(0)) return outcome::client_gone;
  if (!sink_call("end", [&] {
        sink_.end();
        return true;
      }))
    return outcome::client_gone;
  return outcome::ok;
}

outcome response::fail(std::string_view error, std::string_view traceback) {
  return unlocked([&] { return fail_unlocked(error, traceback); });
}

outcome response::fail_unlocked(std::string_view error, std::string_view traceback) {
  if (gone_) return outcome::client_gone;
  if (head_sent_ && head_.content_length && sent_bytes_ == *head_.content_length) {
    // The client has the whole response by its Content-Length: it stands, and
    // the connection stays as usable as after any other response.
    log_unlocked(std::string(error) + " after a whole response (the response stands)", traceback);
    sink_call("end", [&] {
      sink_.end();
      return true;
    });
    return outcome::app_error;
  }
  if (head_sent_) {
    log_unlocked(std::string(error) + " (connection cut)", traceback);
    sink_call("abort", [&] {
      sink_.abort();
      return true;
    });
    return outcome::cut;
  }
  log_unlocked(std::string(error) + " (500 sent)", traceback);
  head h;
  h.code = 500;
  h.status = "500 Internal Server Error";
  h.headers = {{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Length", std::to_string(error_body.size())}};
  h.content_length = error_body.size();
  set_head(std::move(h));
  full_ = false;
  sent_bytes_ = 0;
  if (start_unlocked(std::nullopt) && sink_call("write", [&] { return sink_.write(error_body); })) {
    sent_bytes_ = error_body.size();
    sink_call("end", [&] {
      sink_.end();
      return true;
    });
  }
  return outcome::app_error;
}

bool response_sink::sendfile(int fd, std::uint64_t offset, std::uint64_t length) {
  std::string buffer(std::min<std::uint64_t>(length, 256 * 1024), '\0');
  while (length > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size()));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // an error, or the file shrank
    if (!write(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) return false;
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace scalekit::serve::wsgi
