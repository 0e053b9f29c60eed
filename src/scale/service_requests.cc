// The service sweeps' requests (service_requests.h).

#include "service_requests.h"

#include <fmt/format.h>

#include <array>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <memory>
#include <random>
#include <vector>

#include "scalekit/net/dns.h"
#include "scalekit/net/socket_io.h"

namespace scalekit::scale {

namespace {

using asio::ip::tcp;
using asio::ip::udp;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

tcp::endpoint loopback_tcp(int port) { return {asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)}; }

// Connect, send `request`, read to the end of the stream: the reply, or
// nullopt on any I/O error.
core::task<std::optional<std::string>> round_trip(tcp::endpoint ep, const std::string& request) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  auto [cec] = co_await sock.async_connect(ep, as_tuple);
  if (cec) co_return std::nullopt;
  if (auto wec = co_await net::write_all(sock, asio::buffer(request)); wec) co_return std::nullopt;
  std::string reply;
  std::array<char, 16384> buf;
  for (;;) {
    auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf), as_tuple);
    reply.append(buf.data(), n);
    if (rec == asio::error::eof) break;
    if (rec) co_return std::nullopt;
  }
  co_return reply;
}

}  // namespace

std::string random_json_array(std::uint64_t numbers) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> value(0, 1'000'000);
  std::string body = "[";
  for (std::uint64_t i = 0; i < numbers; ++i) body += (i == 0 ? "" : ", ") + std::to_string(value(rng));
  return body + "]";
}

open_loop::request_fn sort_service_request(int port, std::uint64_t numbers) {
  const std::string body = random_json_array(numbers);
  auto frame = std::make_shared<std::string>(8, '\0');
  for (int i = 0; i < 8; ++i) (*frame)[7 - i] = static_cast<char>((body.size() >> (8 * i)) & 0xff);
  *frame += body;
  const auto ep = loopback_tcp(port);
  return [ep, frame]() -> core::task<bool> {
    const auto reply = co_await round_trip(ep, *frame);
    co_return reply && !reply->empty() && reply->front() == '[';
  };
}

open_loop::request_fn dns_request(int port, std::uint64_t names) {
  struct state {
    std::vector<std::vector<std::uint8_t>> queries;
    std::uint64_t next = 0;
  };
  auto s = std::make_shared<state>();
  const char* known[] = {"facebook.com", "yougov.com", "wipo.int"};
  for (std::uint64_t i = 0; i < std::max<std::uint64_t>(names, 1); ++i)
    s->queries.push_back(
        net::dns::make_query(0, i < 3 ? std::string(known[i]) : fmt::format("host{}.example", i), 1 /* A */, false));
  const udp::endpoint ep{asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)};
  return [ep, s]() -> core::task<bool> {
    auto ex = co_await asio::this_coro::executor;
    const std::uint64_t k = s->next++;
    std::vector<std::uint8_t> query = s->queries[k % s->queries.size()];
    const auto id = static_cast<std::uint16_t>(k);
    query[0] = static_cast<std::uint8_t>(id >> 8);
    query[1] = static_cast<std::uint8_t>(id & 0xff);
    udp::socket sock(ex);
    asio::error_code ec;
    sock.open(udp::v4(), ec);
    if (!ec) sock.connect(ep, ec);
    if (ec) co_return false;
    auto [sec, sent] = co_await sock.async_send(asio::buffer(query), as_tuple);
    if (sec) co_return false;
    std::array<std::uint8_t, 1500> reply;
    for (;;) {  // a stray datagram with another id is skipped
      auto [rec, n] = co_await sock.async_receive(asio::buffer(reply), as_tuple);
      if (rec) co_return false;
      if (n >= 12 && reply[0] == query[0] && reply[1] == query[1] && (reply[2] & 0x80) != 0)
        co_return (reply[3] & 0x0f) == 0;  // RCODE 0: an answer
    }
  };
}

open_loop::request_fn serve_request(int port, std::uint64_t size) {
  auto request = std::make_shared<std::string>(
      fmt::format("GET /mandelbrot.png?w={0}&h={0}&n=256 HTTP/1.1\r\nHost: 127.0.0.1:{1}\r\nConnection: close\r\n\r\n",
                  size, port));
  const auto ep = loopback_tcp(port);
  return [ep, request]() -> core::task<bool> {
    const auto reply = co_await round_trip(ep, *request);
    co_return reply && reply->starts_with("HTTP/1.1 200");
  };
}

}  // namespace scalekit::scale
