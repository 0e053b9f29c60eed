// The DNS server's sockets: one event loop per thread, UDP drained in batches
// with recvmmsg/sendmmsg (one system call for up to 64 queries, which is what
// keeps the CPU per query low), TCP as a coroutine per connection; and
// serve(), the service's entry: the zone, the sockets, the report.

#include "scalekit/net/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/line_reader.h"
#include "scalekit/net/dns.h"
#include "scalekit/net/socket_io.h"

namespace scalekit::net::dns {

namespace {

using asio::ip::tcp;
using log_fn = std::function<void(const std::string&)>;

struct server_stats {
  std::uint64_t udp_queries = 0, tcp_queries = 0;  // messages received
  std::uint64_t replies = 0, dropped = 0;          // dropped: too short or not a query
  std::uint64_t formerr = 0, nxdomain = 0, truncated = 0, other_errors = 0;
  std::uint64_t tcp_connections = 0, tcp_refused = 0;

  server_stats& operator+=(const server_stats& o) {
    udp_queries += o.udp_queries;
    tcp_queries += o.tcp_queries;
    replies += o.replies;
    dropped += o.dropped;
    formerr += o.formerr;
    nxdomain += o.nxdomain;
    truncated += o.truncated;
    other_errors += o.other_errors;
    tcp_connections += o.tcp_connections;
    tcp_refused += o.tcp_refused;
    return *this;
  }
};
using asio::ip::udp;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t udp_batch = 64;
constexpr std::size_t udp_max_query = 4096;  // a bigger datagram is cut by the kernel and fails to parse

const char* rcode_name(rcode rc) {
  switch (rc) {
    case rcode::noerror: return "NOERROR";
    case rcode::formerr: return "FORMERR";
    case rcode::servfail: return "SERVFAIL";
    case rcode::nxdomain: return "NXDOMAIN";
    case rcode::notimp: return "NOTIMP";
    case rcode::refused: return "REFUSED";
    case rcode::badvers: return "BADVERS";
  }
  return "?";
}

// One event loop and everything it owns.
struct loop_state {
  loop_state(const server_options& opts, const zone& zn, const log_fn& lg) : o(opts), z(zn), log(lg) {}
  const server_options& o;
  const zone& z;
  const log_fn& log;
  server_stats stats;
  std::size_t tcp_live = 0;
  // Last, so it is destroyed first: coroutine frames it still holds refer to
  // the members above.
  asio::io_context ctx{1};

  void count(const outcome& out, const std::string& peer) {
    if (!out.replied) {
      ++stats.dropped;
      return;
    }
    ++stats.replies;
    if (out.code == rcode::formerr)
      ++stats.formerr;
    else if (out.code == rcode::nxdomain)
      ++stats.nxdomain;
    else if (out.code != rcode::noerror)
      ++stats.other_errors;
    if (out.truncated) ++stats.truncated;
    if (o.log_queries) {
      log("query from " + peer + ": " + (out.name.empty() ? "(unparsed)" : core::printable(out.name, 255)) + " type " +
          std::to_string(out.qtype) + " -> " + rcode_name(out.code) + ", " + std::to_string(out.answers) + " answers" +
          (out.truncated ? ", truncated" : ""));
    }
  }
};

std::string peer_text(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (a.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  } else if (a.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// The buffers of one UDP batch; on the heap, reused for every batch.
struct udp_batch_buffers {
  mmsghdr in[udp_batch];
  iovec in_iov[udp_batch];
  sockaddr_storage peers[udp_batch];
  std::uint8_t queries[udp_batch][udp_max_query];
  mmsghdr out[udp_batch];
  iovec out_iov[udp_batch];
  std::vector<std::uint8_t> replies[udp_batch];
};

core::task<void> udp_server(udp::socket& sock, loop_state& st) {
  auto b = std::make_unique<udp_batch_buffers>();
  const int fd = sock.native_handle();
  for (;;) {
    auto [wait_error] = co_await sock.async_wait(udp::socket::wait_read, as_tuple);
    if (wait_error) co_return;  // the socket was closed: shutting down
    for (;;) {
      for (std::size_t i = 0; i < udp_batch; ++i) {
        b->in_iov[i] = {b->queries[i], udp_max_query};
        b->in[i].msg_hdr = msghdr{};
        b->in[i].msg_hdr.msg_name = &b->peers[i];
        b->in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        b->in[i].msg_hdr.msg_iov = &b->in_iov[i];
        b->in[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::recvmmsg(fd, b->in, udp_batch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) st.log(std::string("udp receive failed: ") + std::strerror(errno));
        break;
      }
      std::size_t to_send = 0;
      for (int i = 0; i < n; ++i) {
        ++st.stats.udp_queries;
        const std::span<const std::uint8_t> query(b->queries[i], b->in[i].msg_len);
        const outcome out = answer(query, st.z, transport::udp, b->replies[i]);
        st.count(out, st.o.log_queries ? peer_text(b->peers[i]) : std::string());
        if (!out.replied) continue;
        b->out_iov[to_send] = {b->replies[i].data(), b->replies[i].size()};
        b->out[to_send].msg_hdr = msghdr{};
        b->out[to_send].msg_hdr.msg_name = &b->peers[i];
        b->out[to_send].msg_hdr.msg_namelen = b->in[i].msg_hdr.msg_namelen;
        b->out[to_send].msg_hdr.msg_iov = &b->out_iov[to_send];
        b->out[to_send].msg_hdr.msg_iovlen = 1;
        ++to_send;
      }
      for (std::size_t sent = 0; sent < to_send;) {
        const int m = ::sendmmsg(fd, b->out + sent, static_cast<unsigned>(to_send - sent), MSG_DONTWAIT);
        if (m > 0) {
          sent += static_cast<std::size_t>(m);
        } else if (m < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          auto [ec] = co_await sock.async_wait(udp::socket::wait_write, as_tuple);
          if (ec) co_return;
        } else if (m < 0 && errno == EINTR) {
          continue;
        } else {
          // A reply the kernel refuses (e.g. the peer's address is unreachable):
          // skip that one datagram, keep the rest of the batch.
          ++st.stats.other_errors;
          ++sent;
        }
      }
      if (static_cast<std::size_t>(n) < udp_batch) break;  // drained
    }
  }
}

core::task<void> tcp_session(tcp::socket sock, loop_state& st) {
  ++st.tcp_live;
  struct leave {
    loop_state& st;
    ~leave() { --st.tcp_live; }
  } on_exit{st};
  const std::string peer = st.o.log_queries ? sock.remote_endpoint().address().to_string() : std::string();
  std::vector<std::uint8_t> query, reply;
  // Messages in a row that had no ID to answer: a client sends one by
  // mistake; a stream of them (zeros: a 2-byte message of nothing, 128 M of
  // them in 256 MiB, minutes of CPU) is no DNS client, and is hung up on.
  constexpr int max_unanswerable_in_a_row = 16;
  int unanswerable = 0;
  for (;;) {
    std::uint8_t len_bytes[2];
    auto [ec, n] = co_await net::read_within(sock, asio::buffer(len_bytes), st.o.tcp_idle_timeout);
    if (ec) co_return;  // closed, reset or idle: the client is done with us
    query.resize(static_cast<std::size_t>(len_bytes[0] << 8 | len_bytes[1]));
    auto [ec2, got] = co_await net::read_within(sock, asio::buffer(query), st.o.tcp_idle_timeout);
    if (ec2) co_return;
    ++st.stats.tcp_queries;
    const outcome out = answer(query, st.z, transport::tcp, reply);
    st.count(out, peer);
    if (!out.replied) {  // no ID to answer to: skip the message, keep the connection...
      if (++unanswerable >= max_unanswerable_in_a_row) co_return;  // ...unless that is all it sends
      continue;
    }
    unanswerable = 0;
    const std::uint8_t prefix[2] = {static_cast<std::uint8_t>(reply.size() >> 8),
                                    static_cast<std::uint8_t>(reply.size())};
    const std::array<asio::const_buffer, 2> parts{asio::buffer(prefix), asio::buffer(reply)};
    auto [wec, wn] = co_await asio::async_write(sock, parts, as_tuple);
    if (wec) co_return;
  }
}

core::task<void> tcp_listener(tcp::acceptor& acceptor, loop_state& st) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(as_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      st.log("tcp accept failed: " + ec.message());
      co_await core::sleep_for(std::chrono::milliseconds(100));  // e.g. out of file descriptors: breathe
      continue;
    }
    if (st.tcp_live >= st.o.max_tcp_connections) {
      ++st.stats.tcp_refused;  // bounded: a flood of idle connections cannot exhaust us
      continue;                // the socket closes as it goes out of scope
    }
    ++st.stats.tcp_connections;
    asio::co_spawn(acceptor.get_executor(), tcp_session(std::move(sock), st), [&st](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        st.log(std::string("tcp connection failed: ") + x.what());  // one client's error closes only that client
      }
    });
  }
}

// Open a UDP socket on `ep` that shares its port with the server's other sockets.
void open_udp(udp::socket& s, const udp::endpoint& ep, asio::error_code& ec) {
  s.open(ep.protocol(), ec);
  if (ec) return;
  const int one = 1;
  if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    ec = asio::error_code(errno, asio::system_category());
    return;
  }
  // A deeper receive queue rides out the moments the loop is descheduled
  // (bursts would otherwise be dropped by the kernel). Capped by rmem_max.
  const int depth = 4 << 20;
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &depth, sizeof depth);
  s.bind(ep, ec);
}

// Everything up to the sockets: the zone the options ask for. Bad lines are
// counted and reported; a default address that is not IPv4 is a bad option.
result<zone> make_zone(const server_options& o, const log_fn& log, std::uint64_t& bad_lines) {
  ipv4 address{};
  if (!o.nxdomain) {
    in_addr_t parsed = 0;
    if (::inet_pton(AF_INET, o.default_address.c_str(), &parsed) != 1)
      return status::invalid_argument("default address '" + o.default_address + "' is not an IPv4 address");
    std::memcpy(address.data(), &parsed, 4);
  }
  zone z = zone::seed_default();
  if (!o.zone_file.empty()) {
    auto loaded = zone::load(o.zone_file, [&](const std::string& msg) {
      if (++bad_lines <= 20) log(msg);  // the first ones; the count says how many
    });
    if (!loaded.ok()) return loaded.error();
    z = std::move(loaded).value();
    if (bad_lines > 0) log("zone: " + std::to_string(bad_lines) + " bad lines skipped");
  }
  if (o.nxdomain) {
    z.set_nxdomain();
  } else {
    z.set_default(address);
  }
  return z;
}

result<server_stats> serve_zone(const server_options& o, const zone& z, const log_fn& log,
                                const std::stop_token& stop) {
  asio::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec)  // asio says only "Invalid argument"
    return status::invalid_argument("bad listen address '" + o.host +
                                    "': not an IPv4 or IPv6 address (names are not resolved)");
  const std::size_t threads = std::max<std::size_t>(1, o.threads);

  std::vector<std::unique_ptr<loop_state>> loops;
  for (std::size_t i = 0; i < threads; ++i) loops.push_back(std::make_unique<loop_state>(o, z, log));
  std::vector<std::unique_ptr<udp::socket>> udp_sockets;
  std::unique_ptr<tcp::acceptor> acceptor;
  // With port 0 the first UDP socket picks the port; TCP and the other sockets
  // follow it. Another program may hold that port for TCP: then pick again.
  std::uint16_t port = o.port;
  std::string why;
  for (int attempt = 0; attempt < 10; ++attempt) {
    udp_sockets.clear();
    acceptor.reset();
    why.clear();
    port = o.port;
    for (std::size_t i = 0; i < threads && why.empty(); ++i) {
      auto s = std::make_unique<udp::socket>(loops[i]->ctx);
      open_udp(*s, udp::endpoint(address, port), ec);
      if (ec) {
        why = "udp: " + ec.message();
        break;
      }
      port = s->local_endpoint().port();
      udp_sockets.push_back(std::move(s));
    }
    if (why.empty() && o.tcp) {
      acceptor = std::make_unique<tcp::acceptor>(loops[0]->ctx);
      const tcp::endpoint ep(address, port);
      acceptor->open(ep.protocol(), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) why = "tcp: " + ec.message();
    }
    if (why.empty() || o.port != 0) break;
  }
  if (!why.empty())
    return status::io_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (" + why + ")");
  log("listening on " + o.host + ":" + std::to_string(port) + " (udp" + (o.tcp ? "+tcp" : "") + ", " +
      std::to_string(threads) + (threads == 1 ? " thread" : " threads") + ", " + std::to_string(z.size()) + " names)");

  for (std::size_t i = 0; i < threads; ++i)
    asio::co_spawn(loops[i]->ctx, udp_server(*udp_sockets[i], *loops[i]), asio::detached);
  if (acceptor) asio::co_spawn(loops[0]->ctx, tcp_listener(*acceptor, *loops[0]), asio::detached);

  // A stop request (from any thread) stops every loop, each told through
  // post(), so each loop's sockets are closed by their own thread.
  const std::stop_callback on_stop(stop, [&] {
    for (std::size_t i = 0; i < threads; ++i) {
      asio::post(loops[i]->ctx, [&, i] {
        udp_sockets[i]->close();
        if (i == 0 && acceptor) acceptor->close();
        loops[i]->ctx.stop();
      });
    }
  });
  std::vector<std::thread> others;
  for (std::size_t i = 1; i < threads; ++i) others.emplace_back([&, i] { loops[i]->ctx.run(); });
  loops[0]->ctx.run();
  for (auto& t : others) t.join();

  server_stats total;
  for (auto& l : loops) total += l->stats;
  return total;
}

}  // namespace

result<core::report> serve(const server_options& o, core::observer& obs) {
  const log_fn log = [&obs](const std::string& line) { obs.message(line); };
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t bad_lines = 0;
  auto z = make_zone(o, log, bad_lines);
  if (!z.ok()) return z.error();
  auto served = serve_zone(o, *z, log, obs.stop_token());
  if (!served.ok()) return served.error();
  const server_stats& s = served.value();

  core::report r("dns serve");
  const std::uint64_t queries = s.udp_queries + s.tcp_queries;
  const auto n = [](std::uint64_t v) { return std::to_string(v); };
  r.work = n(queries) + " queries (" + n(s.udp_queries) + " udp, " + n(s.tcp_queries) + " tcp), " + n(s.replies) +
           " replies, " + n(s.formerr) + " FORMERR, " + n(s.nxdomain) + " NXDOMAIN, " + n(s.truncated) +
           " truncated, " + n(s.dropped) + " dropped";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(queries);
  r.unit = "queries";
  // The head says these.
  r.add("udp_queries", s.udp_queries, "");
  r.add("tcp_queries", s.tcp_queries, "");
  r.add("replies", s.replies, "");
  r.add("formerr", s.formerr, "");
  r.add("nxdomain", s.nxdomain, "");
  r.add("truncated", s.truncated, "");
  r.add("dropped", s.dropped, "");
  r.add("other_errors", s.other_errors, s.other_errors > 0 ? "{} other errors" : "");
  r.add("jobs", static_cast<std::uint64_t>(std::max<std::size_t>(1, o.threads)), "-j {}");
  r.add("tcp_connections", s.tcp_connections, "{} tcp connections");
  r.add("tcp_refused", s.tcp_refused, "{} refused");
  r.add("zone_names", static_cast<std::uint64_t>(z->size()), "");  // the "listening on" message said it
  r.add("bad_zone_lines", bad_lines, "");                          // each was a message
  return r;
}

}  // namespace scalekit::net::dns
