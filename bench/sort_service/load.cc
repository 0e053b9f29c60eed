// Load generator for the sort service protocol: C concurrent clients, each
// sending requests of N random integers back to back for S seconds (one
// connection per request, as the protocol closes after each reply); prints
// requests per second and p50/p99/max latency. Built with the bench preset.
//
//   sort_load PORT [--clients 16] [--numbers 1000] [--seconds 5]

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "scalekit/core/async.h"

using asio::ip::tcp;
namespace core = scalekit::core;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sort_load PORT [--clients C] [--numbers N] [--seconds S]\n");
    return 2;
  }
  const std::string port = argv[1];
  int clients = 16, numbers = 1000;
  double seconds = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--numbers")) numbers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
  }
  std::mt19937_64 rng(1);
  std::string body = "[";
  for (int i = 0; i < numbers; ++i)
    body += (i ? ", " : "") + std::to_string(static_cast<long long>(rng() % 2000000) - 1000000);
  body += "]";
  std::string request(8, '\0');
  for (int i = 0; i < 8; ++i)
    request[static_cast<std::size_t>(i)] = static_cast<char>((body.size() >> (56 - 8 * i)) & 0xff);
  request += body;

  std::vector<double> latencies_us;
  std::size_t failures = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const auto t0 = std::chrono::steady_clock::now();
  asio::io_context ctx(1);
  tcp::resolver resolver(ctx);
  const auto endpoints = resolver.resolve("127.0.0.1", port);
  constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
  for (int c = 0; c < clients; ++c) {
    asio::co_spawn(
        ctx,
        [&]() -> core::task<void> {
          std::string reply;
          while (std::chrono::steady_clock::now() < end) {
            const auto start = std::chrono::steady_clock::now();
            tcp::socket sock(ctx);
            auto [cec, ep] = co_await asio::async_connect(sock, endpoints, tuple_awaitable);
            if (cec) {
              ++failures;
              continue;
            }
            co_await asio::async_write(sock, asio::buffer(request), tuple_awaitable);
            reply.clear();
            // A server that never answers must not hang the benchmark: 5 s per reply.
            using core::operator||;
            asio::steady_timer timer(ctx, std::chrono::seconds(5));
            auto read = [&]() -> core::task<void> {
              co_await asio::async_read(sock, asio::dynamic_buffer(reply), tuple_awaitable);
            };
            const auto outcome = co_await (read() || timer.async_wait(tuple_awaitable));
            if (outcome.index() == 1 || reply.empty() || reply[0] != '[') {
              ++failures;
              continue;
            }
            latencies_us.push_back(
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
          }
        },
        asio::detached);
  }
  ctx.run();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double q) {
    return latencies_us.empty() ? 0.0 : latencies_us[static_cast<std::size_t>(q * (latencies_us.size() - 1))];
  };
  std::printf("%zu requests in %.2f s: %.0f req/s, latency p50 %.0f us, p99 %.0f us, max %.0f us, %zu failures\n",
              latencies_us.size(), elapsed, latencies_us.size() / elapsed, pct(0.5), pct(0.99), pct(1.0), failures);
  return failures > 0 ? 1 : 0;
}
