// The HTTP server: on net::run_tcp_server, a coroutine per connection reading
// heads into a bounded buffer, answering in order (pipelined requests included).

#include "scalekit/net/http_server.h"

#include "scalekit/net/tcp_server.h"

#include <algorithm>
#include <cctype>

namespace scalekit::net {

namespace {

using asio::ip::tcp;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

struct server_state {
  const http_server_options& o;
  const http_handler& handler;
  const std::function<void(const std::string&)>& log;
  http_server_stats stats;
};

core::task<void> send(tcp::socket& sock, const std::string& bytes) { co_await core::write_all(sock, asio::buffer(bytes)); }

core::task<void> handle_connection(tcp::socket sock, server_state& st) {
  ++st.stats.connections;
  std::string buf;
  for (;;) {
    // Read until a whole head is buffered (pipelined requests may already be there).
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > st.o.max_head_bytes) {
        ++st.stats.client_errors;
        const std::string reply = format_response({431, "text/plain; charset=utf-8", "request head too large\n"}, false, false);
        co_await send(sock, reply);
        co_return;
      }
      char chunk[4096];
      auto [ec, n] = co_await core::read_within(sock, asio::buffer(chunk, 1), st.o.idle_timeout);
      if (ec) co_return;  // closed, reset or idle: nobody waits for an answer
      buf.append(chunk, n);
      asio::error_code more;
      const std::size_t extra = core::read_available(sock, asio::buffer(chunk), more);
      buf.append(chunk, extra);
      if (more) {
        if (buf.find("\r\n\r\n") == std::string::npos) co_return;
      }
    }
    const std::string head = buf.substr(0, end + 4);
    buf.erase(0, end + 4);
    auto req = parse_request_head(head);
    if (!req.ok()) {
      ++st.stats.client_errors;
      const std::string reply = format_response({400, "text/plain; charset=utf-8", req.error().message() + "\n"}, false, false);
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

result<http_request> parse_request_head(std::string_view head) {
  const auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return status::invalid_argument("no request line");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return status::invalid_argument("malformed request line");
  http_request r;
  r.method = std::string(line.substr(0, sp1));
  r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    r.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    r.minor_version = 0;
  } else {
    return status::invalid_argument("unsupported protocol version");
  }
  if (r.method.empty() || r.target.empty() || r.target[0] != '/') return status::invalid_argument("malformed request target");
  for (char c : r.method)
    if (c < 'A' || c > 'Z') return status::invalid_argument("malformed method");
  r.keep_alive = r.minor_version == 1;
  std::string_view rest = head.substr(line_end + 2);
  while (!rest.empty()) {
    const auto e = rest.find("\r\n");
    const std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    if (h.empty()) break;
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return status::invalid_argument("malformed header line");
    const std::string name = lower(h.substr(0, colon));
    const std::string value = lower(trim(h.substr(colon + 1)));
    if (name == "connection") {
      if (value.find("close") != std::string::npos) r.keep_alive = false;
      if (value.find("keep-alive") != std::string::npos) r.keep_alive = true;
    } else if ((name == "content-length" && value != "0") || name == "transfer-encoding") {
      return status::invalid_argument("requests with a body are not accepted");
    }
  }
  return r;
}

std::string format_response(const http_response& r, bool keep_alive, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "Server: scalekit\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

result<http_server_stats> serve_http(const http_server_options& o, const http_handler& handler,
                                     const std::function<void(const std::string&)>& log) {
  server_state st{o, handler, log, {}};
  const status s = run_tcp_server(
      o.host, o.port, [&st](tcp::socket sock) { return handle_connection(std::move(sock), st); }, log);
  if (!s.ok()) return s;
  return st.stats;
}

}  // namespace scalekit::net
