// One loop thread, an acceptor, a coroutine per connection; the connection
// limit, the byte budget and the graceful close.

#include "scalekit/net/tcp_server.h"

#include <sys/socket.h>

#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <system_error>
#include <tuple>

#include "scalekit/net/socket_io.h"

namespace scalekit::net {

using asio::ip::tcp;

namespace detail {

// What the loop's connections share. The loop's thread only. Declared before
// the loop in run_tcp_server: connections still open at the stop are
// destroyed with the loop, and give back their counts here.
struct tcp_server_state {
  const tcp_server_options& o;
  const std::function<void(const std::string&)>& log;
  std::size_t live = 0;      // connections handed to the handler, not yet closed
  std::size_t refusing = 0;  // refused connections still being closed
  std::size_t buffered = 0;  // bytes held by all connections (tcp_connection::hold)
  bool at_limit = false;     // refusing connections since the limit was reached
  std::uint64_t refused_lately = 0;
  bool budget_full = false;  // hold() refusing since the budget ran out
  std::uint64_t over_budget_lately = 0;
  bool draining = false;           // stopping with a grace period
  std::set<tcp_connection*> idle;  // connections between requests (set_idle)
  tcp_server_stats stats;
};

}  // namespace detail

tcp_connection::tcp_connection(tcp::socket sock, detail::tcp_server_state& server)
    : socket_(std::move(sock)), server_(server) {
  ++server_.live;
  if (server_.o.on_connections) server_.o.on_connections(server_.live);
}

tcp_connection::~tcp_connection() {
  server_.idle.erase(this);
  server_.buffered -= held_;
  --server_.live;
  if (server_.o.on_connections) server_.o.on_connections(server_.live);
}

bool tcp_connection::draining() const noexcept { return server_.draining; }

void tcp_connection::set_idle(bool idle) {
  if (idle)
    server_.idle.insert(this);
  else
    server_.idle.erase(this);
}

bool tcp_connection::hold(std::size_t bytes) {
  auto& s = server_;
  if (bytes <= held_) {
    s.buffered -= held_ - bytes;
    held_ = bytes;
    return true;
  }
  const std::size_t more = bytes - held_;
  if (more > s.o.max_buffered_bytes - s.buffered) {
    ++s.stats.over_budget;
    ++s.over_budget_lately;
    if (!s.budget_full) {
      s.budget_full = true;
      s.log("busy: requests in flight hold " + std::to_string(s.buffered) + " bytes of the " +
            std::to_string(s.o.max_buffered_bytes) + " allowed; refusing requests until some end");
    }
    return false;
  }
  s.buffered += more;
  held_ = bytes;
  if (s.budget_full) {
    s.budget_full = false;
    s.log("not busy any more: " + std::to_string(s.over_budget_lately) + " requests were refused");
    s.over_budget_lately = 0;
  }
  return true;
}

void tcp_connection::abort() noexcept {
  asio::error_code ec;
  socket_.close(ec);
}

namespace {

// A connection refused at the limit: counted in `refusing` while it is closed.
struct refused_connection {
  refused_connection(tcp::socket s, detail::tcp_server_state& st) : sock(std::move(s)), state(st) { ++state.refusing; }
  ~refused_connection() { --state.refusing; }
  refused_connection(const refused_connection&) = delete;
  refused_connection& operator=(const refused_connection&) = delete;
  tcp::socket sock;
  detail::tcp_server_state& state;
};

core::task<void> refuse(std::unique_ptr<refused_connection> c) {
  const auto& o = c->state.o;
  if (!o.refusal.empty()) co_await write_within(c->sock, asio::buffer(o.refusal), o.linger);
  co_await close_gracefully(c->sock, o.linger);
}

core::task<void> serve(std::unique_ptr<tcp_connection> conn, const connection_handler& on_connection,
                       std::chrono::milliseconds linger) {
  std::exception_ptr failed;
  try {
    co_await on_connection(*conn);
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    conn->abort();
    std::rethrow_exception(failed);
  }
  co_await close_gracefully(conn->socket(), linger);
}

core::task<void> accept_loop(tcp::acceptor& acceptor, const connection_handler& on_connection,
                             detail::tcp_server_state& st) {
  constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
  const auto& log = st.log;
  std::string accept_failure;  // why accept failed last, until it works again
  for (;;) {
    if (st.o.accept_pause) {  // leave a burst to the other servers on this socket while holding more than a share
      for (auto wait = st.o.accept_pause(st.live); wait.count() > 0 && acceptor.is_open();
           wait = st.o.accept_pause(st.live))
        co_await core::sleep_for(wait);
      if (!acceptor.is_open()) co_return;  // closed by a stop during the pause: accept would say EBADF every 100 ms
    }
    std::error_code ec = st.o.TEST_accept_error ? st.o.TEST_accept_error() : std::error_code();
    tcp::socket sock(acceptor.get_executor());
    if (!ec) std::tie(ec, sock) = co_await acceptor.async_accept(as_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Said once while it lasts: out of file descriptors, a full accept
      // queue kept it failing, and the log grew by ten lines a second.
      if (ec.message() != accept_failure) log("accept failed: " + ec.message() + " (retrying every 100 ms)");
      accept_failure = ec.message();
      co_await core::sleep_for(std::chrono::milliseconds(100));  // e.g. out of file descriptors: breathe
      continue;
    }
    if (!accept_failure.empty()) log("accepting again");
    accept_failure.clear();
    if (st.live >= st.o.max_connections) {
      ++st.stats.refused;
      ++st.refused_lately;
      if (!st.at_limit) {
        st.at_limit = true;
        log("connection limit of " + std::to_string(st.o.max_connections) + " reached: refusing new connections");
      }
      // The refused ones are bounded too: past as many again, closed at once.
      if (st.refusing < st.o.max_connections) {
        asio::co_spawn(acceptor.get_executor(), refuse(std::make_unique<refused_connection>(std::move(sock), st)),
                       asio::detached);
      }
      continue;
    }
    if (st.at_limit) {
      st.at_limit = false;
      log("below the connection limit again: " + std::to_string(st.refused_lately) + " connections were refused");
      st.refused_lately = 0;
    }
    ++st.stats.accepted;
    auto conn = std::make_unique<tcp_connection>(std::move(sock), st);
    asio::co_spawn(
        acceptor.get_executor(), serve(std::move(conn), on_connection, st.o.linger), [&log](std::exception_ptr e) {
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

namespace {

// The acceptors to serve: o.listen_fds adopted, or one bound to o.host:o.port.
result<std::vector<std::unique_ptr<tcp::acceptor>>> open_acceptors(asio::io_context& loop, const tcp_server_options& o,
                                                                   const std::function<void(const std::string&)>& log) {
  std::vector<std::unique_ptr<tcp::acceptor>> out;
  asio::error_code ec;
  for (const int fd : o.listen_fds) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return status::io_error("descriptor " + std::to_string(fd) + " is not a socket: " + std::strerror(errno));
    auto a = std::make_unique<tcp::acceptor>(loop);
    a->assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) return status::io_error("cannot adopt listening socket " + std::to_string(fd) + ": " + ec.message());
    out.push_back(std::move(a));
  }
  if (!o.listen_fds.empty()) return out;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec)  // asio says only "Invalid argument"
    return status::invalid_argument("bad listen address '" + o.host +
                                    "': not an IPv4 or IPv6 address (names are not resolved)");
  auto a = std::make_unique<tcp::acceptor>(loop);
  const tcp::endpoint ep(address, o.port);
  a->open(ep.protocol(), ec);
  if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return status::io_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  log("listening on " + o.host + ":" + std::to_string(a->local_endpoint().port()));
  out.push_back(std::move(a));
  return out;
}

// The stop with a grace period: accept nothing more, end the idle
// connections, and stop the loop when the rest have ended or the time is up.
core::task<void> drain(asio::io_context& loop, detail::tcp_server_state& st) {
  st.draining = true;
  for (tcp_connection* c : std::set<tcp_connection*>(st.idle)) {
    asio::error_code ignored;
    c->socket().cancel(ignored);
  }
  const auto deadline = std::chrono::steady_clock::now() + st.o.grace;
  while (st.live > 0 && std::chrono::steady_clock::now() < deadline) {
    co_await core::sleep_for(std::chrono::milliseconds(10));
  }
  if (st.live > 0) st.log("grace period over: closing " + std::to_string(st.live) + " connections");
  loop.stop();
}

}  // namespace

result<tcp_server_stats> run_tcp_server(const tcp_server_options& o, const connection_handler& on_connection,
                                        const std::function<void(const std::string&)>& log) {
  detail::tcp_server_state st{o, log,   0, 0,     0,  false,
                              0, false, 0, false, {}, {}};  // before the loop: see tcp_server_state
  asio::io_context loop(1);
  auto acceptors = open_acceptors(loop, o, log);
  if (!acceptors.ok()) return acceptors.error();
  // The stop may come from any thread: the loop closes its own acceptors.
  const std::stop_callback on_stop(o.stop, [&] {
    asio::post(loop, [&] {
      for (auto& a : *acceptors) {
        asio::error_code ignored;
        a->close(ignored);
      }
      if (o.grace.count() > 0 && st.live > 0) {
        asio::co_spawn(loop, drain(loop, st), asio::detached);
      } else {
        loop.stop();
      }
    });
  });
  if (o.on_start) o.on_start(loop);
  for (auto& a : *acceptors) asio::co_spawn(loop, accept_loop(*a, on_connection, st), asio::detached);
  if (o.run)
    o.run(loop);
  else
    loop.run();
  if (o.on_stop) o.on_stop(loop);
  // Stopped with calls maybe still running on an executor: none may post to
  // the loop after it is gone.
  core::wait_for_calls(loop);
  return st.stats;
}

}  // namespace scalekit::net
