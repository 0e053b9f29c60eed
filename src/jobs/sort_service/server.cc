// The sort service's network side: net::run_tcp_server (one loop thread, a
// coroutine per connection); the sorting goes to the executor. And its client.

#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <istream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <variant>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/jobs/sort_service/sort_service.h"
#include "scalekit/net/socket_io.h"
#include "scalekit/net/tcp_server.h"
#include "sort_json.h"

namespace scalekit::jobs::sort_service {

namespace {

using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

struct server_stats {
  std::uint64_t connections = 0, sorted = 0, errors = 0, dropped = 0, busy = 0;
};

// How the server stops. Every executor call's completion posts to the loop,
// so the loop must outlive every call in flight: a stop marks the server
// stopping (no new call starts; cancel_on_stop cancels the executor, so queued
// calls complete at once) and the loop is stopped only when the last call in
// flight has posted its completion. Shared by the completions, so that it
// outlives the last end() (which may still run when the server has returned).
// Thread-safe.
class drain {
 public:
  /// A call may start (false once stopping). Each true is matched by one end().
  bool begin() {
    std::scoped_lock lock(mutex_);
    if (stopping_) return false;
    ++in_flight_;
    return true;
  }
  /// A call's completion has been posted to the loop.
  void end() {
    bool last;
    {
      std::scoped_lock lock(mutex_);
      last = --in_flight_ == 0 && stopping_;
    }
    if (last) loop_stop_.request_stop();
  }
  /// Stop once no call is in flight (at once when none is).
  void stop() {
    bool idle;
    {
      std::scoped_lock lock(mutex_);
      stopping_ = true;
      idle = in_flight_ == 0;
    }
    if (idle) loop_stop_.request_stop();
  }
  /// What stops the loop.
  [[nodiscard]] std::stop_token loop_token() const noexcept { return loop_stop_.get_token(); }

 private:
  std::mutex mutex_;
  // State below is protected by mutex_.
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::stop_source loop_stop_;
};

struct server_state {
  const serve_options& o;
  core::executor& ex;
  std::shared_ptr<drain> calls;
  server_stats stats;  // the loop's thread only
};

// Sort `body` on the executor (core::async_call, with drain::end() once the
// completion is posted). REQUIRES: st.calls->begin() returned true.
core::task<result<core::bytes>> sort_on_executor(server_state& st, std::string body) {
  auto loop = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(result<core::bytes>)>(
      [&st, loop](auto handler, std::string b) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        std::vector<core::task_call> calls;
        calls.push_back(core::task_call{sort_task, std::move(b)});
        st.ex.dispatch(std::move(calls), [h, loop, in_flight = st.calls](std::size_t, result<core::bytes> r) {
          asio::post(loop, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
          in_flight->end();  // after post() has returned: the loop may stop now
        });
      },
      asio::use_awaitable, std::move(body));
}

// Replies are built into named locals before co_await: GCC 12 mis-destroys
// temporaries of a conditional expression inside a co_await full-expression
// (ASan: free of a non-heap address). A workaround listed in docs/DESIGN.md; remove it when the
// bug is fixed.
core::task<void> reply(net::tcp_connection& conn, const server_state& st, const std::string& body) {
  // A vanished client, or one that reads nothing, is not an error here.
  const auto ec = co_await net::write_within(conn.socket(), asio::buffer(body), st.o.write_timeout);
  if (ec) conn.abort();
}

// The next size of a body's buffer: doubling from 64 KiB as the bytes come,
// never past the declared length. Memory follows what arrived, not what was
// announced.
std::size_t next_capacity(std::size_t capacity, std::uint64_t length) {
  const std::uint64_t grown = std::max<std::uint64_t>(std::uint64_t{64} << 10, std::uint64_t{capacity} * 2);
  return static_cast<std::size_t>(std::min(grown, length));
}

core::task<void> handle_connection(net::tcp_connection& conn, server_state& st) {
  ++st.stats.connections;
  auto& sock = conn.socket();
  unsigned char header[8];
  auto [ec, n] = co_await net::read_within(sock, asio::buffer(header), st.o.idle_timeout);
  if (ec) {
    ++st.stats.dropped;  // no request arrived (closed, reset, idle): nobody to answer
    co_return;
  }
  std::uint64_t length = 0;
  for (unsigned char b : header) length = (length << 8) | b;
  if (length > st.o.max_bytes) {
    ++st.stats.errors;
    const std::string refusal = error_json("request of " + std::to_string(length) + " bytes exceeds the limit of " +
                                           std::to_string(st.o.max_bytes));
    co_await reply(conn, st, refusal);
    co_return;  // the TCP layer drains the body the client may still send, then closes
  }
  // The body, into a buffer that grows as it arrives, within the server's
  // budget of bytes in flight.
  std::string body;
  const auto deadline = std::chrono::steady_clock::now() + st.o.read_timeout;
  asio::error_code rec;
  while (body.size() < length && !rec) {
    if (body.size() == body.capacity() || body.empty()) {
      const std::size_t want = next_capacity(body.capacity(), length);
      if (want > body.capacity()) {
        // libstdc++ grows a string to at least twice its capacity: hold that.
        if (!conn.hold(std::max(want, 2 * body.capacity()))) {
          ++st.stats.errors;
          ++st.stats.busy;
          const std::string busy = error_json("the server is busy: requests in flight hold all of its " +
                                              std::to_string(st.o.max_in_flight) + " bytes; try again later");
          co_await reply(conn, st, busy);
          co_return;
        }
        body.reserve(want);
        (void)conn.hold(body.capacity());  // what was allocated (never more than held)
      }
    }
    // Read into the room the buffer has, a slice at a time: the bytes are
    // zeroed only just before they arrive.
    const std::size_t old = body.size();
    const std::size_t room = std::min<std::size_t>(body.capacity() - old, std::size_t{256} << 10);
    body.resize(old + room);
    auto [e, got] = co_await net::read_some_until(sock, asio::buffer(body.data() + old, room), deadline);
    body.resize(old + got);
    rec = e;
  }
  if (body.size() < length) {
    ++st.stats.errors;
    std::string what = "short body: expected " + std::to_string(length) + " bytes, got ";
    if (rec == asio::error::timed_out) {
      what += "too few within the read timeout";
    } else {
      what += std::to_string(body.size());
    }
    const std::string refusal = error_json(what);
    co_await reply(conn, st, refusal);
    co_return;
  }
  std::string out;
  if (st.calls->begin()) {
    auto r = co_await sort_on_executor(st, std::move(body));
    out = r.ok() ? std::move(r).value() : error_json(r.error().message());
  } else {
    out = error_json("the service is stopping");
  }
  if (!out.empty() && out[0] == '{') {
    ++st.stats.errors;
  } else {
    ++st.stats.sorted;
  }
  co_await reply(conn, st, out);
}

}  // namespace

result<core::report> serve(const serve_options& o, core::executor& ex, core::observer& obs) {
  if (o.max_in_flight < o.max_bytes)
    return status::invalid_argument("max_in_flight (" + std::to_string(o.max_in_flight) + ") is below max_bytes (" +
                                    std::to_string(o.max_bytes) + "): the largest requests could never be read");
  const auto log = [&obs](const std::string& line) { obs.message(line); };
  auto calls = std::make_shared<drain>();
  server_state st{o, ex, calls, {}};
  const auto t0 = std::chrono::steady_clock::now();
  // Worker processes start before the sockets exist: one forked later would
  // inherit the listening socket and the open connections, and a connection
  // the server closes would stay open in it.
  ex.wait_ready();
  const core::cancel_on_stop cancel_guard(ex, obs);
  const std::stop_callback on_stop(obs.stop_token(), [&calls] { calls->stop(); });
  net::tcp_server_options t;
  t.host = o.host;
  t.port = o.port;
  t.max_connections = o.max_connections;
  t.max_buffered_bytes = static_cast<std::size_t>(o.max_in_flight);
  t.refusal = error_json("too many connections: the server takes " + std::to_string(o.max_connections) +
                         " at a time; try again later");
  t.stop = calls->loop_token();
  const auto served = net::run_tcp_server(
      t, [&st](net::tcp_connection& conn) { return handle_connection(conn, st); }, log);
  if (!served.ok()) return served.error();

  const server_stats& n = st.stats;
  core::report r("sort-service serve");
  r.work = std::to_string(n.connections) + " connections, " + std::to_string(n.sorted) + " sorted, " +
           std::to_string(n.errors) + " error replies, " + std::to_string(n.dropped) + " dropped";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(n.connections);
  r.unit = "connections";
  // The head says these.
  r.add("connections", n.connections, "");
  r.add("sorted", n.sorted, "");
  r.add("errors", n.errors, "");
  r.add("dropped", n.dropped, "");
  r.add("refused", served->refused, served->refused > 0 ? "{} connections refused at the limit" : "");
  r.add("busy", n.busy, n.busy > 0 ? "{} requests refused busy" : "");
  core::add_executor_fields(r, ex);
  return r;
}

namespace {

// One request to host:port: its reply, read until the server closes.
result<std::string> request(const std::string& host, std::uint16_t port, std::string_view body,
                            std::chrono::milliseconds timeout, const std::stop_token& stop) {
  asio::io_context ctx(1);
  std::optional<result<std::string>> out;
  asio::co_spawn(
      ctx,
      [&]() -> core::task<void> {
        using core::operator||;
        tcp::socket sock(ctx);
        tcp::resolver resolver(ctx);
        auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), tuple_awaitable);
        if (rec) {
          out.emplace(status::io_error("cannot resolve '" + host + "': " + rec.message()));
          co_return;
        }
        asio::steady_timer timer(ctx, timeout);
        auto connected =
            co_await (asio::async_connect(sock, endpoints, tuple_awaitable) || timer.async_wait(tuple_awaitable));
        if (connected.index() == 1 || std::get<0>(std::get<0>(connected))) {
          out.emplace(status::io_error("cannot connect to " + host + ":" + std::to_string(port)));
          co_return;
        }
        std::string request(8, '\0');
        for (int i = 0; i < 8; ++i)
          request[static_cast<std::size_t>(i)] = static_cast<char>((body.size() >> (56 - 8 * i)) & 0xff);
        request.append(body);
        co_await asio::async_write(sock, asio::buffer(request), tuple_awaitable);
        std::string response;
        auto reader = [&]() -> core::task<void> {
          co_await asio::async_read(sock, asio::dynamic_buffer(response), tuple_awaitable);  // until the server closes
        };
        timer.expires_after(timeout);
        auto done = co_await (reader() || timer.async_wait(tuple_awaitable));
        if (done.index() == 1) {
          out.emplace(status::timeout("no complete reply within " + std::to_string(timeout.count()) + " ms"));
          co_return;
        }
        out.emplace(std::move(response));
      },
      asio::detached);
  std::atomic<bool> stopped{false};
  const std::stop_callback on_stop(stop, [&] {
    stopped = true;
    asio::post(ctx, [&ctx] { ctx.stop(); });
  });
  ctx.run();
  if (stopped) return status::cancelled("stopped before the reply");
  if (!out) return status::internal("the client stopped early");
  return std::move(*out);
}

}  // namespace

result<core::report> call(const call_options& o, core::observer& obs) {
  std::string body = o.body;
  if (o.input != nullptr) {
    // Read with a bound: an endless input (/dev/zero) is refused, not buffered.
    body.clear();
    char chunk[65536];
    while (o.input->read(chunk, sizeof chunk) || o.input->gcount() > 0) {
      body.append(chunk, static_cast<std::size_t>(o.input->gcount()));
      if (body.size() > o.max_bytes)
        return status::too_large(o.input_name + ": more than " + std::to_string(o.max_bytes) + " bytes");
    }
    if (o.input->bad()) return status::io_error("cannot read the request from " + o.input_name);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto reply = request(o.host, o.port, body, o.timeout, obs.stop_token());
  if (!reply.ok()) return reply.error();
  if (reply->empty())
    return status::io_error(o.host + ":" + std::to_string(o.port) + " closed the connection without a reply");
  const bool refused = reply->rfind("{\"error\"", 0) == 0;
  obs.output(*reply + "\n");
  if (refused) obs.message("error reply: " + *reply);

  core::report r("sort-service call");
  r.work = std::to_string(body.size()) + "-byte request to " + o.host + ":" + std::to_string(o.port) + ", " +
           std::to_string(reply->size()) + "-byte reply";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.failures = refused ? 1 : 0;
  // The head says these.
  r.add("request_bytes", static_cast<std::uint64_t>(body.size()), "");
  r.add("reply_bytes", static_cast<std::uint64_t>(reply->size()), "");
  r.add("error_reply", refused, refused ? "error reply" : "");
  r.add("reply", *reply, "");  // on stdout already, but not under --json
  return r;
}

}  // namespace scalekit::jobs::sort_service
