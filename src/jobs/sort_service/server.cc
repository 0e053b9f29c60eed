// The sort service's network side: net::run_tcp_server (one loop thread, a
// coroutine per connection); the sorting goes to the executor through core::async_call.

#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <variant>

#include "scalekit/core/async.h"
#include "scalekit/jobs/sort_service/sort_service.h"
#include "scalekit/net/tcp_server.h"

namespace scalekit::jobs::sort_service {

namespace {

using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

struct server_state {
  const server_options& o;
  core::executor& ex;
  const std::function<void(const std::string&)>& log;
  server_stats stats;
};

// Replies are built into named locals before co_await: GCC 12 mis-destroys
// temporaries of a conditional expression inside a co_await full-expression
// (ASan: free of a non-heap address). TODO: Remove this workaround when the
// bug is fixed.
core::task<void> reply(tcp::socket& sock, const std::string& body) {
  co_await core::write_all(sock, asio::buffer(body));  // a vanished client is not an error here
}

core::task<void> handle_connection(tcp::socket sock, server_state& st) {
  ++st.stats.connections;
  unsigned char header[8];
  auto [ec, n] = co_await core::read_within(sock, asio::buffer(header), st.o.idle_timeout);
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
    co_await reply(sock, refusal);
    co_return;
  }
  std::string body(length, '\0');
  auto [ec2, got] = co_await core::read_within(sock, asio::buffer(body), st.o.read_timeout);
  if (ec2) {
    ++st.stats.errors;
    std::string what = "short body: expected " + std::to_string(length) + " bytes, got ";
    if (ec2 == asio::error::timed_out) {
      what += "too few within the read timeout";
    } else {
      what += std::to_string(got);
    }
    const std::string refusal = error_json(what);
    co_await reply(sock, refusal);
    co_return;
  }
  auto r = co_await core::async_call(st.ex, sort_task, std::move(body));
  std::string out = r.ok() ? std::move(r).value() : error_json(r.error().message());
  if (!out.empty() && out[0] == '{') {
    ++st.stats.errors;
  } else {
    ++st.stats.sorted;
  }
  co_await reply(sock, out);
}

}  // namespace

result<server_stats> serve(const server_options& o, core::executor& ex,
                           const std::function<void(const std::string&)>& log) {
  server_state st{o, ex, log, {}};
  const status s = net::run_tcp_server(
      o.host, o.port, [&st](tcp::socket sock) { return handle_connection(std::move(sock), st); }, log, o.stop);
  if (!s.ok()) return s;
  return st.stats;
}

result<std::string> call(const std::string& host, std::uint16_t port, std::string_view body,
                         std::chrono::milliseconds timeout) {
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
  ctx.run();
  if (!out) return status::internal("the client stopped early");
  return std::move(*out);
}

}  // namespace scalekit::jobs::sort_service
