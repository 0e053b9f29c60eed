// The HTTP server: on net::run_tcp_server, a coroutine per connection reading
// heads into a bounded buffer, answering in order (pipelined requests included).

#include "scalekit/net/http_server.h"

#include "scalekit/net/socket_io.h"
#include "scalekit/net/tcp_server.h"

namespace scalekit::net {

namespace {

using asio::ip::tcp;

struct server_state {
  const http_server_options& o;
  const http_handler& handler;
  const std::function<void(const std::string&)>& log;
  http_server_stats stats;
};

core::task<void> send(tcp::socket& sock, const std::string& bytes) {
  co_await net::write_all(sock, asio::buffer(bytes));
}

core::task<void> handle_connection(tcp::socket sock, server_state& st) {
  ++st.stats.connections;
  std::string buf;
  for (;;) {
    // Read until a whole head is buffered (pipelined requests may already be there).
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > st.o.max_head_bytes) {
        ++st.stats.client_errors;
        const std::string reply =
            format_response({431, "text/plain; charset=utf-8", "request head too large\n"}, false, false);
        co_await send(sock, reply);
        co_return;
      }
      char chunk[4096];
      auto [ec, n] = co_await net::read_within(sock, asio::buffer(chunk, 1), st.o.idle_timeout);
      if (ec) co_return;  // closed, reset or idle: nobody waits for an answer
      buf.append(chunk, n);
      asio::error_code more;
      const std::size_t extra = net::read_available(sock, asio::buffer(chunk), more);
      buf.append(chunk, extra);
      if (more && buf.find("\r\n\r\n") == std::string::npos) co_return;  // the peer is gone mid-head
    }
    const std::string head = buf.substr(0, end + 4);
    buf.erase(0, end + 4);
    auto req = parse_request_head(head);
    if (!req.ok()) {
      ++st.stats.client_errors;
      const std::string reply =
          format_response({400, "text/plain; charset=utf-8", req.error().message() + "\n"}, false, false);
      co_await send(sock, reply);
      co_return;
    }
    ++st.stats.requests;
    http_response resp;
    if (req->method != "GET" && req->method != "HEAD") {
      resp = {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
    } else {
      try {
        resp = co_await st.handler(req.value());
      } catch (const std::exception& e) {
        st.log(std::string("handler failed: ") + e.what());
        resp = {500, "text/plain; charset=utf-8", "internal error\n"};
      }
    }
    if (resp.status >= 400 && resp.status < 500) ++st.stats.client_errors;
    const bool keep = req->keep_alive && resp.status != 405;
    const std::string reply = format_response(resp, keep, req->method == "HEAD");
    co_await send(sock, reply);
    if (!keep) co_return;
  }
}

}  // namespace

result<http_server_stats> serve_http(const http_server_options& o, const http_handler& handler,
                                     const std::function<void(const std::string&)>& log) {
  server_state st{o, handler, log, {}};
  const status s = run_tcp_server(
      o.host, o.port, [&st](tcp::socket sock) { return handle_connection(std::move(sock), st); }, log, o.stop);
  if (!s.ok()) return s;
  return st.stats;
}

}  // namespace scalekit::net
