// One loop thread, an acceptor, a coroutine per connection.

#include "scalekit/net/tcp_server.h"

#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>

namespace scalekit::net {

namespace {

using asio::ip::tcp;

core::task<void> accept_loop(tcp::acceptor& acceptor, const connection_handler& on_connection,
                             const std::function<void(const std::string&)>& log) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(as_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      log("accept failed: " + ec.message());
      co_await core::sleep_for(std::chrono::milliseconds(100));  // e.g. out of file descriptors: breathe
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), on_connection(std::move(sock)), [&log](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log(std::string("connection failed: ") + x.what());  // one client's error closes only that client
      }
    });
  }
}

}  // namespace

status run_tcp_server(const std::string& host, std::uint16_t port, const connection_handler& on_connection,
                      const std::function<void(const std::string&)>& log, std::stop_token stop) {
  asio::io_context loop(1);
  asio::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec)  // asio says only "Invalid argument"
    return status::invalid_argument("bad listen address '" + host +
                                    "': not an IPv4 or IPv6 address (names are not resolved)");
  tcp::acceptor acceptor(loop);
  const tcp::endpoint ep(address, port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return status::io_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  log("listening on " + host + ":" + std::to_string(acceptor.local_endpoint().port()));
  // The stop may come from any thread: the loop closes its own acceptor.
  const std::stop_callback on_stop(stop, [&] {
    asio::post(loop, [&] {
      acceptor.close();
      loop.stop();
    });
  });
  asio::co_spawn(loop, accept_loop(acceptor, on_connection, log), asio::detached);
  loop.run();
  // Stopped with calls maybe still running on an executor: none may post to
  // the loop after it is gone.
  core::wait_for_calls(loop);
  return {};
}

}  // namespace scalekit::net
