// The HTTP server: on net::run_tcp_server, a coroutine per connection that
// reads each request whole (bounded, with deadlines), hands it to the handler
// and writes the response, in order (pipelined requests included).

#include "scalekit/net/http_server.h"

#include <unistd.h>

#include <asio/detached.hpp>
#include <cstdio>
#include <memory>

#include "scalekit/net/socket_io.h"
#include "scalekit/net/tcp_server.h"

namespace scalekit::net {

namespace {

using asio::ip::tcp;
using clock = std::chrono::steady_clock;

constexpr std::size_t read_size = 16384;                     // bytes asked of the socket at a time
constexpr auto drain_idle = std::chrono::milliseconds(500);  // see handle_connection

struct server_state {
  const http_server_options& o;
  const http_handler& handler;
  const std::function<void(const std::string&)>& log;
  http_server_stats stats;  // the loop's thread only
};

http_response plain(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  if (status == 503) r.headers.push_back({"Retry-After", "1"});
  return r;
}

// Replies are built into named locals before co_await: GCC 12 mis-destroys
// temporaries of a conditional expression inside a co_await full-expression
// (docs/DESIGN.md, workarounds).

// Write `bytes`: false, with the connection closed, when the client is gone
// or takes nothing for write_timeout.
core::task<bool> send(tcp_connection& conn, server_state& st, std::string_view bytes) {
  const auto ec = co_await write_within(conn.socket(), asio::buffer(bytes.data(), bytes.size()), st.o.write_timeout);
  if (!ec) co_return true;
  if (ec == asio::error::timed_out) ++st.stats.timeouts;
  conn.abort();
  co_return false;
}

// A file piece with sendfile(2): false, with the connection closed, when the
// client is gone, takes nothing for write_timeout, or the file fell short.
core::task<bool> send_file(tcp_connection& conn, server_state& st, const http_request& req,
                           const http_body_piece& piece) {
  const auto ec = co_await sendfile_within(conn.socket(), *piece.file, piece.offset, piece.length, st.o.write_timeout);
  if (!ec) co_return true;
  if (ec == asio::error::timed_out) ++st.stats.timeouts;
  if (ec == asio::error::eof) st.log("response file shorter than its region (" + req.method + " " + req.target + ")");
  conn.abort();
  co_return false;
}

// "1a\r\n": the size line of a chunk of n bytes.
std::string fmt_chunk_size(std::uint64_t n) {
  char buf[24];
  const int len = std::snprintf(buf, sizeof buf, "%llx\r\n", static_cast<unsigned long long>(n));
  return std::string(buf, static_cast<std::size_t>(len));
}

// The server's own error reply; the connection ends after it (closed
// gracefully by the TCP layer, so the client reads it).
core::task<void> refuse(tcp_connection& conn, server_state& st, int status, std::string message) {
  if (status >= 400 && status < 500) ++st.stats.client_errors;
  const http_response r = plain(status, std::move(message) + "\n");
  const std::string bytes = format_response(r, false, false);
  co_await send(conn, st, bytes);
}

// A connection's reads with their deadlines, for the price of one timer a
// connection instead of one a read. read_some_until's timer and its `||` cost
// a request two coroutine spawns, a timer set and cancelled and the
// cancellation's completion queued behind every other ready connection's
// handlers, so a loop with many ready connections read them all before it
// answered any (docs/DESIGN.md, "dummyimage and net's HTTP server"). Here a
// read that must wait waits for the socket alone, and a watchdog (Asio's
// timeout_watchdog example) sleeps until no later than the waiting read's
// deadline, and cancels the read that waits past it. Keep-alive requests move the
// deadline later, which needs nothing of the timer; it is set only when a
// read's deadline comes before it (a request in pieces: its head's deadline is
// shorter than an idle connection's). The loop's thread only.
class read_watch {
 public:
  explicit read_watch(tcp::socket& sock) : sock_(sock), timer_(sock.get_executor(), clock::time_point::max()) {}

  // As read_some_until: what has arrived, else some bytes once they come;
  // asio::error::timed_out at the deadline, operation_aborted when the
  // socket's operations were cancelled (a drain).
  // One async_read_some, not a read of what has arrived and then a wait for
  // readability: Asio's reactor tries the read at once (bytes that are there
  // complete it behind the loop's other ready handlers, so a connection whose
  // client sends its next request as soon as it has an answer does not keep
  // the loop to itself), else waits for the socket's next edge and reads then.
  // A request that waits costs two recvfrom, not three and an epoll_ctl (an
  // async_wait re-arms the descriptor each time); a short read is not
  // followed by one that only finds nothing left.
  core::task<std::pair<asio::error_code, std::size_t>> read_some(asio::mutable_buffer buf, clock::time_point deadline) {
    constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
    if (buf.size() == 0) co_return std::make_pair(asio::error_code{}, std::size_t{0});
    waiting_until_ = deadline;
    expired_ = false;
    if (deadline < timer_.expiry()) timer_.expires_at(deadline);  // the watchdog wakes, and sleeps until this one
    auto [ec, got] = co_await sock_.async_read_some(buf, as_tuple);
    waiting_until_ = clock::time_point::max();
    if (got > 0) co_return std::make_pair(asio::error_code{}, got);  // read before the deadline passed: kept
    if (expired_) co_return std::make_pair(asio::error_code(asio::error::timed_out), std::size_t{0});
    co_return std::make_pair(ec, got);
  }

  // Runs until stop(); touches the socket only to cancel a read past its deadline.
  static core::task<void> watchdog(std::shared_ptr<read_watch> self) {
    constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
    for (;;) {
      (void)co_await self->timer_.async_wait(as_tuple);
      if (self->stopped_) co_return;
      const auto now = clock::now();
      if (self->timer_.expiry() > now) continue;  // moved earlier by a read: wait for that
      if (self->waiting_until_ <= now) {
        self->expired_ = true;
        self->waiting_until_ = clock::time_point::max();
        asio::error_code ignored;
        self->sock_.cancel(ignored);
      }
      self->timer_.expires_at(self->waiting_until_);  // the read waiting now, or parked until a read sets it
    }
  }

  // The connection is ending: the watchdog leaves without touching the socket.
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  tcp::socket& sock_;
  asio::steady_timer timer_;  // the watchdog's: never later than a waiting read's deadline
  clock::time_point waiting_until_ = clock::time_point::max();  // the waiting read's deadline; max: none waits
  bool expired_ = false;                                        // the waiting read was cancelled at its deadline
  bool stopped_ = false;
};

// While a streamed body goes out, the client's side of the connection is
// watched (watch_peer), so a client that goes away is noticed while the body
// source waits for its next piece, not only at the next write.
struct peer_watch {
  std::string& in;  // the connection's bytes not yet parsed: pipelined requests are kept here
  bool& eof;        // the client has closed its sending side after sending more requests
  bool gone = false;
};

constexpr std::size_t watch_limit = 4 * read_size;  // pipelined bytes read while a body streams, at most

// Read what has arrived into `in` (held by the connection above `base`, the
// request being answered), without waiting: the bytes taken, and the error
// (eof, reset...) when there was one. REQUIRES: conn.hold(base + in.size() +
// read_size) has succeeded.
std::size_t take_available(tcp_connection& conn, std::string& in, std::size_t base, asio::error_code& ec) {
  const std::size_t old = in.size();
  in.resize(old + read_size);
  const std::size_t got = read_available(conn.socket(), asio::buffer(in.data() + old, read_size), ec);
  in.resize(old + got);
  (void)conn.hold(base + in.size());
  return got;
}

// Returns (true) only when the client is gone: the end of its stream with no
// request after the one being answered, or a reset. Bytes that arrive are
// the next requests: kept in `w.in` (up to watch_limit and the byte budget;
// past that the watch stops, the kernel keeps the rest, and a client that
// goes away is noticed at the next write). A client that closes its sending
// side after more requests waits for their answers: not gone. Otherwise runs
// until cancelled (the body has ended): a wait for readability, which takes
// no bytes, so a cancel loses none.
core::task<bool> watch_peer(tcp_connection& conn, peer_watch& w) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  auto& sock = conn.socket();
  const std::size_t base = conn.held() - std::min(conn.held(), w.in.size());  // the request being answered
  std::size_t taken = 0;
  while (taken < watch_limit && conn.hold(base + w.in.size() + read_size)) {
    auto [wec] = co_await sock.async_wait(tcp::socket::wait_read, as_tuple);
    if (wec == asio::error::operation_aborted) co_return false;  // the body ended first
    asio::error_code ec = wec;
    if (!ec) taken += take_available(conn, w.in, base, ec);
    if (ec == asio::error::eof && !w.in.empty()) {
      w.eof = true;  // a half close after more requests: they are answered
      break;
    }
    if (ec) {
      w.gone = true;
      co_return true;
    }
  }
  asio::steady_timer forever(sock.get_executor(), clock::time_point::max());
  (void)co_await forever.async_wait(as_tuple);  // ends with the body (cancelled)
  co_return false;
}

// The body of a streamed response, after its head (in `out`, sent with the
// first piece): true when the connection may carry another request.
core::task<bool> send_body(tcp_connection& conn, server_state& st, const http_request& req, const http_response& resp,
                           http_framing framing, std::string out, bool keep, const peer_watch& w) {
  std::uint64_t sent = 0;
  for (;;) {
    std::optional<http_body_piece> piece;
    std::string failure;
    bool cut = false;
    try {
      piece = co_await resp.stream->next_piece();
    } catch (const http_body_cut&) {
      cut = true;  // the source has said why
    } catch (const std::exception& e) {
      failure = std::string("response body failed: ") + e.what();
    }
    if (w.gone) co_return false;  // the wait was cancelled: the client went away
    if (cut || !failure.empty()) {
      if (!cut) st.log(failure + " (" + req.method + " " + req.target + ")");
      if (!out.empty()) (void)co_await send(conn, st, out);  // the head: the client sees the cut after it
      conn.abort();                                          // the head is out: only the close can tell the client
      co_return false;
    }
    if (!piece) break;
    const std::uint64_t n = piece->size();
    if (n == 0) continue;
    if (framing == http_framing::length && n > *resp.content_length - sent) {
      st.log("response body longer than its Content-Length (" + req.method + " " + req.target + ")");
      conn.abort();
      co_return false;
    }
    sent += n;
    if (piece->file) {
      if (framing == http_framing::chunked) out += fmt_chunk_size(n);
      if (!out.empty() && !co_await send(conn, st, out)) co_return false;
      out.clear();
      if (!co_await send_file(conn, st, req, *piece)) co_return false;
      if (framing == http_framing::chunked) out = "\r\n";  // goes with what follows
      continue;
    }
    if (framing == http_framing::chunked) {
      out += format_chunk(piece->bytes);
    } else if (out.empty()) {
      out = std::move(piece->bytes);
    } else {
      out += piece->bytes;
    }
    if (!co_await send(conn, st, out)) co_return false;
    out.clear();
  }
  if (framing == http_framing::chunked) out += last_chunk;
  if (!out.empty() && !co_await send(conn, st, out)) co_return false;
  if (framing == http_framing::length && sent != *resp.content_length) {
    st.log("response body shorter than its Content-Length (" + req.method + " " + req.target + ")");
    conn.abort();
    co_return false;
  }
  co_return keep;
}

// Send `resp` to `req`: true when the connection may carry another request.
// `in` and `eof` are the connection's (handle_connection): while a body
// streams, the client's next requests are read into `in`.
core::task<bool> respond(tcp_connection& conn, server_state& st, const http_request& req, const http_response& resp,
                         std::string& in, bool& eof) {
  const bool head = req.method == "HEAD";
  bool keep = req.keep_alive && !conn.draining();
  if (!resp.stream) {
    const std::string bytes = format_response(resp, keep, head);
    const bool sent = co_await send(conn, st, bytes);
    co_return sent&& keep;
  }
  http_framing framing = http_framing::chunked;
  if (resp.content_length) {
    framing = http_framing::length;
  } else if (req.minor_version == 0) {
    framing = http_framing::close;  // an HTTP/1.0 client knows no chunks: the body ends with the connection
    keep = false;
  }
  // The head goes out with the first piece (one segment for a short body).
  std::string out = format_response_head(resp, framing, resp.content_length.value_or(0), keep);
  if (head || !status_has_body(resp.status)) {
    const bool sent = co_await send(conn, st, out);
    co_return sent&& keep;
  }
  // Pieces go out as they come: small ones must not wait for the client's
  // delayed acknowledgement of the last (Nagle's algorithm would hold them).
  asio::error_code ignored;
  conn.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  peer_watch w{in, eof};
  // A client that closed its sending side before this answer still reads it
  // (not watched); else watch for it going away while the body comes. Gone:
  // the body's wait is cancelled, its source dropped with the response. A
  // read takes a request without the end of the stream that came after it
  // (read_watch), so the end is looked for first.
  if (const std::size_t base = conn.held() - std::min(conn.held(), in.size());
      !eof && conn.hold(base + in.size() + read_size)) {
    asio::error_code ec;
    take_available(conn, in, base, ec);
    eof = ec == asio::error::eof;  // other errors: the watch sees them again
  }
  if (eof) co_return co_await send_body(conn, st, req, resp, framing, std::move(out), keep, w);
  auto outcome = co_await (send_body(conn, st, req, resp, framing, std::move(out), keep, w) || watch_peer(conn, w));
  if (outcome.index() == 0) co_return std::get<0>(outcome);
  conn.abort();
  co_return false;
}

core::task<http_response> call_handler(server_state& st, const http_request& req) {
  http_response resp;
  std::string failure;
  try {
    resp = co_await st.handler(req);
  } catch (const std::exception& e) {
    failure = std::string("handler failed: ") + e.what();
  }
  for (const auto& h : resp.headers) {
    if (failure.empty() && !valid_header_field(h))
      failure = "handler failed: invalid response header field '" + h.name + "'";
  }
  if (!failure.empty()) {
    st.log(failure + " (" + req.method + " " + req.target + ")");
    resp = plain(500, "internal error\n");
  }
  co_return resp;
}

core::task<void> handle_connection(tcp_connection& conn, server_state& st, read_watch& watch) {
  ++st.stats.connections;
  auto& sock = conn.socket();
  http_request_parser parser(st.o.limits);
  asio::error_code peer_ec;
  const tcp::endpoint remote = sock.remote_endpoint(peer_ec);  // the client, for the handler
  std::string in;                                              // received, not yet parsed
  bool eof = false;                                            // the client has closed its sending side
  bool drain_seen = false;
  for (bool first = true;; first = false) {
    // Read one request whole: its head, then its body.
    auto deadline = clock::now() + (first ? st.o.head_timeout : st.o.idle_timeout);
    bool started = false, head_seen = false;
    for (;;) {
      if (!in.empty()) {
        if (!started && !first) deadline = clock::now() + st.o.head_timeout;
        started = true;
        const std::size_t n = parser.feed(in);
        in.erase(0, n);
        if (parser.phase() == http_parse_phase::failed) {
          co_await refuse(conn, st, parser.error().status, parser.error().message);
          co_return;
        }
        if (parser.head_done() && !head_seen) {
          head_seen = true;
          deadline = clock::now() + st.o.body_timeout;
          if (parser.request().expect_continue && parser.body_expected() && in.empty()) {
            if (!co_await send(conn, st, continue_response)) co_return;
          }
        }
        if (parser.phase() == http_parse_phase::complete) break;
        if (!in.empty()) continue;  // stopped at the end of the head: the body follows
      }
      if (eof) co_return;  // closed between requests, or mid-request: nothing to answer
      if (!started && conn.draining() && !drain_seen) {
        // Stopping: a client in the middle of its keep-alive sequence gets a
        // moment to send its next request, which is answered with a close;
        // closing at once would race with that request (the client sees a
        // reset). A connection silent that long is closed without a word.
        drain_seen = true;
        deadline = std::min(deadline, clock::now() + drain_idle);
      }
      if (!conn.hold(parser.buffered() + in.size() + read_size)) {
        ++st.stats.busy;
        co_await refuse(conn, st, 503, "the server is busy: too many requests in flight; try again");
        co_return;
      }
      const std::size_t old = in.size();
      in.resize(old + read_size);
      conn.set_idle(!started);  // a drain ends the wait for a next request
      auto [ec, got] = co_await watch.read_some(asio::buffer(in.data() + old, read_size), deadline);
      conn.set_idle(false);
      in.resize(old + got);
      if (ec == asio::error::operation_aborted && !started && conn.draining()) continue;  // the drain woke us
      if (ec == asio::error::timed_out) {
        if (!started) co_return;  // an idle connection: closed without a word
        ++st.stats.timeouts;
        std::string why = head_seen ? "the request body took too long" : "the request head took too long";
        co_await refuse(conn, st, 408, std::move(why));
        co_return;
      }
      if (ec == asio::error::eof) {
        eof = true;
      } else if (ec) {
        conn.abort();  // reset: nobody to answer
        co_return;
      }
    }
    http_request req = parser.take();
    if (!peer_ec) {
      req.remote_address = remote.address().to_string();
      req.remote_port = remote.port();
    }
    ++st.stats.requests;
    const http_response resp = co_await call_handler(st, req);
    if (resp.status >= 400 && resp.status < 500) ++st.stats.client_errors;
    if (!co_await respond(conn, st, req, resp, in, eof)) co_return;
    (void)conn.hold(parser.buffered() + in.size());  // the request is answered: its bytes are given back
  }
}

// A connection with its read_watch: the watchdog runs beside it and stops
// with it, whichever way it ends.
core::task<void> serve_connection(tcp_connection& conn, server_state& st) {
  auto watch = std::make_shared<read_watch>(conn.socket());
  asio::co_spawn(conn.socket().get_executor(), read_watch::watchdog(watch), asio::detached);
  struct stopper {
    read_watch& w;
    ~stopper() { w.stop(); }
  } stop_watch{*watch};
  co_await handle_connection(conn, st, *watch);
}

}  // namespace

core::task<std::optional<http_body_piece>> http_body_source::next_piece() {
  auto bytes = co_await next();
  if (!bytes) co_return std::nullopt;
  http_body_piece p;
  p.bytes = std::move(*bytes);
  co_return p;
}

http_body_piece make_file_piece(int fd, std::uint64_t offset, std::uint64_t length) {
  http_body_piece p;
  p.file = std::shared_ptr<const int>(new int(fd), [](const int* f) {
    ::close(*f);
    delete f;
  });
  p.offset = offset;
  p.length = length;
  return p;
}

result<http_server_stats> serve_http(const http_server_options& o, const http_handler& handler,
                                     const std::function<void(const std::string&)>& log) {
  server_state st{o, handler, log, {}};
  tcp_server_options t;
  t.host = o.host;
  t.port = o.port;
  t.max_connections = o.max_connections;
  t.max_buffered_bytes = o.max_buffered_bytes;
  t.linger = o.linger;
  t.refusal = format_response(plain(503, "too many connections; try again\n"), false, false);
  t.stop = o.stop;
  t.grace = o.grace;
  t.listen_fds = o.listen_fds;
  t.on_start = o.on_start;
  t.on_stop = o.on_stop;
  t.run = o.run;
  t.accept_pause = o.accept_pause;
  t.on_connections = o.on_connections;
  t.TEST_accept_error = o.TEST_accept_error;
  auto served = run_tcp_server(
      t, [&st](tcp_connection& conn) { return serve_connection(conn, st); }, log);
  if (!served.ok()) return served.error();
  st.stats.refused = served->refused;
  return st.stats;
}

}  // namespace scalekit::net
