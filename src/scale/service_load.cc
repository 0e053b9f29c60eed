// The services a sweep loads (service_load.h). Each is this scalekit binary
// (/proc/self/exe) as a child process on a free loopback port.

#include "service_load.h"

#include <algorithm>
#include <string>

#include "service_requests.h"

namespace scalekit::scale {

namespace {

using core::executor_kind;

std::vector<std::string> with_n(std::vector<std::string> argv, std::size_t n) {
  for (auto& a : argv)
    if (a == "N") a = std::to_string(n);
  return argv;
}

const std::vector<service_workload>& table() {
  static const std::vector<service_workload> all = [] {
    std::vector<service_workload> s(3);
    s[0].w = {.name = "sort-service",
              .size_name = "numbers per request",
              .about =
                  "sort-service serve --executor processes -j N: one connection per request, a JSON array "
                  "of random integers sorted (open-loop, Poisson arrivals)",
              .default_sizes = {1000},
              .min_size = 1,
              .max_size = 1'000'000,
              .executors = {executor_kind::processes},
              .run = nullptr};
    s[0].knob = "sorting processes (sort-service serve --executor processes -j N)";
    s[0].start_rate = 100;
    s[0].argv = [](std::size_t n, std::uint64_t) {
      return with_n({"/proc/self/exe", "sort-service", "serve", "--listen", "127.0.0.1:0", "--executor", "processes",
                     "-j", "N"},
                    n);
    };
    s[0].ready = "listening on 127.0.0.1:";
    s[0].request = [](int port, std::uint64_t size) { return sort_service_request(port, size); };

    s[1].w = {.name = "dns",
              .size_name = "names queried",
              .about =
                  "dns serve -j N (UDP only): A queries for the default names in turn, one socket per query "
                  "(open-loop, Poisson arrivals)",
              .default_sizes = {4},
              .min_size = 1,
              .max_size = 1000,
              .executors = {executor_kind::threads},
              .run = nullptr};
    s[1].knob = "event-loop threads (dns serve -j N)";
    s[1].start_rate = 500;
    s[1].argv = [](std::size_t n, std::uint64_t) {
      return with_n({"/proc/self/exe", "dns", "serve", "--listen", "127.0.0.1:0", "--no-tcp", "-j", "N"}, n);
    };
    s[1].ready = "listening on 127.0.0.1:";
    s[1].request = [](int port, std::uint64_t size) { return dns_request(port, size); };

    s[2].w = {.name = "serve",
              .size_name = "tile side",
              .about =
                  "serve --workers N --threads 1 -j 1 --cache-mb 0: GET /mandelbrot.png?w=S&h=S&n=256, one "
                  "connection per request (open-loop, Poisson arrivals)",
              .default_sizes = {48},
              .min_size = 1,
              .max_size = 1024,
              .executors = {executor_kind::processes},
              .run = nullptr};
    s[2].knob = "worker processes (serve --workers N)";
    s[2].start_rate = 50;
    s[2].argv = [](std::size_t n, std::uint64_t) {
      return with_n({"/proc/self/exe", "serve", "--listen", "127.0.0.1:0", "--workers", "N", "--threads", "1", "-j",
                     "1", "--cache-mb", "0", "--grace", "1"},
                    n);
    };
    s[2].ready = "workers ready";
    s[2].request = [](int port, std::uint64_t size) { return serve_request(port, size); };
    for (auto& x : s) x.default_workers = {1, 2, 3, 4};
    return s;
  }();
  return all;
}

}  // namespace

std::span<const service_workload> service_workload_table() { return table(); }

const service_workload* find_service_workload(std::string_view name) {
  const auto& all = table();
  const auto it = std::find_if(all.begin(), all.end(), [&](const service_workload& s) { return s.w.name == name; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace scalekit::scale
