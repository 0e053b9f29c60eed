// Streaming WSGI responses: the bounded pipe from the application thread to
// the loop, the loop's end of it, and the sink that decides between a whole
// response and a stream (wsgi_stream.h).

#include "wsgi_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "scalekit/net/http_server.h"

namespace scalekit::serve {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t slice = std::size_t{64} << 10;  // bytes per piece in the pipe, and per hand-over to the socket

bool same_name(std::string_view a, std::string_view lower) {
  return std::equal(a.begin(), a.end(), lower.begin(), lower.end(),
                    [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == y; });
}

}  // namespace

void set_head(net::http_response& out, const wsgi::response_head& h) {
  out.status = h.status_code;
  out.content_type.clear();
  out.headers.clear();
  for (const auto& f : h.headers) {
    if (same_name(f.name, "content-length") || same_name(f.name, "transfer-encoding") ||
        same_name(f.name, "connection"))
      continue;
    if (same_name(f.name, "content-type")) {
      out.content_type = std::string(f.value);
      continue;
    }
    out.headers.push_back({std::string(f.name), std::string(f.value)});
  }
}

// Pieces of body on their way from one producer thread to the loop. At most
// `capacity` bytes wait in it (one piece more when it was empty): push blocks
// for room, until `deadline` (--timeout) at most: a client reading slowly must
// not hold the application thread, and its request look stuck to the master
// (which would replace the worker, cutting every other connection of it).
// The loop's waker is touched on the loop's thread only.
class response_pipe : public std::enable_shared_from_this<response_pipe> {
 public:
  response_pipe(const stream_settings& s, clock::time_point deadline)
      : loop_(s.loop), capacity_(std::max(s.capacity, slice)), gone_(s.loop_gone), deadline_(deadline) {}

  // Producer. false: the reader went away (or the loop stopped), or no room came before the deadline.
  bool push(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::string_view piece = bytes.substr(0, slice);
      bool wake = false;
      {
        std::unique_lock lock(mutex_);
        const auto has_room = [&] { return reader_gone_ || queued_ == 0 || queued_ + piece.size() <= capacity_; };
        const bool room = deadline_ == clock::time_point::max() ? room_.wait(lock, gone_, has_room)
                                                                : room_.wait_until(lock, gone_, deadline_, has_room);
        if (!room && !gone_.stop_requested()) late_ = true;  // the loop says so once it has sent what is queued
        if (!room || reader_gone_) return false;
        pieces_.push_back({std::string(piece), nullptr, 0, 0});
        queued_ += piece.size();
        wake = std::exchange(waiting_, false);
      }
      if (wake) wake_reader();
      bytes.remove_prefix(piece.size());
    }
    return true;
  }
  // Producer: a file region (its descriptor held by the piece). No bytes in
  // memory, so no wait for room: the loop sends it with sendfile(2).
  bool push_file(net::http_body_piece piece) {
    bool wake = false;
    {
      std::scoped_lock lock(mutex_);
      if (reader_gone_) return false;
      pieces_.push_back(std::move(piece));
      wake = std::exchange(waiting_, false);
    }
    if (wake) wake_reader();
    return true;
  }
  // Producer: the body is complete, or (cut) cannot be.
  void close(bool cut) {
    bool wake = false;
    {
      std::scoped_lock lock(mutex_);
      (cut ? cut_ : ended_) = true;
      wake = std::exchange(waiting_, false);
    }
    if (wake) wake_reader();
  }

  enum class state { piece, ended, cut, late, empty };
  // Loop: the next bytes (coalesced up to a slice), or why there are none;
  // `empty` registers the reader to be woken (waker() cancelled).
  state take(net::http_body_piece& out) {
    std::scoped_lock lock(mutex_);
    if (pieces_.empty()) {
      if (late_) return state::late;
      if (cut_) return state::cut;
      if (ended_) return state::ended;
      waiting_ = true;
      return state::empty;
    }
    out = std::move(pieces_.front());
    pieces_.pop_front();
    if (out.file) return state::piece;
    while (!pieces_.empty() && !pieces_.front().file && out.bytes.size() + pieces_.front().bytes.size() <= slice) {
      out.bytes += pieces_.front().bytes;
      pieces_.pop_front();
    }
    queued_ -= out.bytes.size();
    room_.notify_all();
    return state::piece;
  }
  // Producer: false once the reader is gone (or the loop stopped).
  bool reading() {
    std::scoped_lock lock(mutex_);
    return !reader_gone_ && !gone_.stop_requested();
  }
  // Loop: the timer to cancel when there is news (nullptr: no reader).
  void set_waker(asio::steady_timer* t) noexcept { waker_.store(t, std::memory_order_relaxed); }
  // Loop: the reader is gone (the response is done or the client went away).
  void reader_gone() {
    waker_.store(nullptr, std::memory_order_relaxed);
    std::scoped_lock lock(mutex_);
    reader_gone_ = true;
    room_.notify_all();
  }

 private:
  void wake_reader() {
    asio::post(loop_, [self = shared_from_this()] {
      if (auto* t = self->waker_.load(std::memory_order_relaxed)) t->cancel();
    });
  }

  asio::any_io_executor loop_;
  const std::size_t capacity_;
  std::stop_token gone_;
  const clock::time_point deadline_;
  // The loop's thread only, but for the store of a reader dropped unread (a
  // 504 came first) on the application thread: atomic for that.
  std::atomic<asio::steady_timer*> waker_{nullptr};
  std::mutex mutex_;
  std::condition_variable_any room_;
  std::deque<net::http_body_piece> pieces_;  // guarded by mutex_, as the rest below
  std::size_t queued_ = 0;
  bool waiting_ = false, ended_ = false, cut_ = false, late_ = false, reader_gone_ = false;
};

namespace {

// The loop's end of a pipe: the response's body stream.
class pipe_body final : public net::http_body_source {
 public:
  pipe_body(std::shared_ptr<response_pipe> pipe, const stream_settings& s, clock::time_point deadline,
            long long timeout_ms)
      : pipe_(std::move(pipe)), s_(s), deadline_(deadline), timeout_ms_(timeout_ms) {}
  ~pipe_body() override { pipe_->reader_gone(); }
  pipe_body(const pipe_body&) = delete;
  pipe_body& operator=(const pipe_body&) = delete;

  // (The server asks for next_piece(); this is for other readers.)
  core::task<std::optional<std::string>> next() override {
    auto p = co_await next_piece();
    if (!p) co_return std::nullopt;
    if (!p->file) co_return std::move(p->bytes);
    std::string bytes(p->length, '\0');
    if (::pread(*p->file, bytes.data(), bytes.size(), static_cast<off_t>(p->offset)) !=
        static_cast<ssize_t>(bytes.size()))
      throw std::runtime_error("cannot read the response's file");
    co_return bytes;
  }

  core::task<std::optional<net::http_body_piece>> next_piece() override {
    for (;;) {
      net::http_body_piece piece;
      switch (pipe_->take(piece)) {
        case response_pipe::state::piece: co_return std::move(piece);
        case response_pipe::state::ended: co_return std::nullopt;
        case response_pipe::state::cut: throw net::http_body_cut("the application cut its response");
        case response_pipe::state::late: break;  // the client read too slowly for the application to finish in time
        case response_pipe::state::empty: break;
      }
      if (clock::now() >= deadline_) {
        if (s_.on_timeout) s_.on_timeout();
        throw std::runtime_error("the request took longer than the server's timeout (" + std::to_string(timeout_ms_) +
                                 " ms) after its head was sent: connection cut");
      }
      if (!timer_) {
        timer_.emplace(co_await asio::this_coro::executor);
        pipe_->set_waker(&*timer_);
      }
      timer_->expires_at(deadline_);
      asio::error_code ec;
      co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  std::shared_ptr<response_pipe> pipe_;
  const stream_settings& s_;
  clock::time_point deadline_;
  long long timeout_ms_;
  std::optional<asio::steady_timer> timer_;  // made on the loop, at the first wait
};

}  // namespace

stream_sink::~stream_sink() {
  if (pipe_ && !closed_)
    pipe_->close(true);  // the host stopped short (the client went away): never a whole-looking end
}

bool stream_sink::start(const wsgi::response_head& head) {
  set_head(whole_, head);
  length_ = head.content_length;
  started_ = true;
  return true;
}

bool stream_sink::write(std::string_view chunk) {
  if (!pipe_) {
    if (whole_.body.size() + chunk.size() < s_.capacity) {
      whole_.body.append(chunk);
      return true;
    }
    if (!go_streaming()) return false;  // a big piece is not copied whole first: it goes through the pipe
  }
  return pipe_->push(chunk);
}

// A small file is kept like any piece; a bigger one goes to the loop as a
// region of a dup()ed descriptor, sent with sendfile(2) (no copy through here).
bool stream_sink::sendfile(int fd, std::uint64_t offset, std::uint64_t length) {
  if (!pipe_ && whole_.body.size() + length < s_.capacity) return response_sink::sendfile(fd, offset, length);
  if (!pipe_ && !go_streaming()) return false;
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  return pipe_->push_file(net::make_file_piece(copy, offset, length));
}

bool stream_sink::flush() {
  if (pipe_) return pipe_->reading();
  if (delivered_) return true;  // went whole: nothing more can follow
  if (length_ && whole_.body.size() == *length_) return go_whole();
  return go_streaming();
}

// A body that has its whole Content-Length already needs no pipe: the host
// cuts off anything more, so the response goes to the loop whole now (the
// client waits for neither the app's next() nor its close()), and it costs
// what a list body costs. Werkzeug's (Flask's) answers come this way: an
// iterator over one piece, with its Content-Length.
bool stream_sink::go_whole() {
  delivered_ = true;
  return deliver_(std::move(whole_));
}

// The head and what was kept go to the loop; the rest of the body follows through the pipe.
bool stream_sink::go_streaming() {
  pipe_ = std::make_shared<response_pipe>(s_, deadline_);
  net::http_response r;
  r.status = whole_.status;
  r.content_type = std::move(whole_.content_type);
  r.headers = std::move(whole_.headers);
  r.content_length = length_;
  r.stream = std::make_shared<pipe_body>(pipe_, s_, deadline_, timeout_ms_);
  std::string kept = std::move(whole_.body);
  delivered_ = true;
  if (!deliver_(std::move(r))) return false;  // answered 504 meanwhile: nobody reads (the body went with r)
  return pipe_->push(kept);
}

void stream_sink::end() {
  ended_ = true;
  if (!pipe_) return;
  closed_ = true;
  pipe_->close(false);
}

void stream_sink::abort() {
  if (!pipe_) return;
  closed_ = true;
  pipe_->close(true);
}

std::optional<net::http_response> stream_sink::take_whole() {
  if (!started_ || !ended_) return std::nullopt;
  return std::move(whole_);
}

}  // namespace scalekit::serve
