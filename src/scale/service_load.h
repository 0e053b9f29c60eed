#pragma once
// The services `scalekit scale` sweeps under load: how to start each one with
// N of its own scaling knob, when it is ready, and the request the open-loop
// generator sends it (service_requests.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "open_loop.h"
#include "service_process.h"
#include "workloads.h"

namespace scalekit::scale {

/// A service the sweep has started: the server whose process tree is
/// measured, the helpers it needs (a Redis broker), and the request that loads
/// it. Members go in reverse order: the request (which may own a client of
/// the server) first, then the server, then its helpers.
struct running_service {
  std::vector<std::unique_ptr<service_process>> helpers;
  std::unique_ptr<service_process> server;
  open_loop::request_fn request;
};

struct service_workload {
  /// The sweep's view: name, size_name (what a request carries), about,
  /// default_sizes, min/max_size, and executors: the one kind N counts.
  workload w;
  std::string_view knob;  ///< what N is, for --help: "worker processes"
  std::vector<std::size_t> default_workers;
  double start_rate = 100;  ///< requests/s of the first step
  /// The server's command line with N and the request size, listening on
  /// 127.0.0.1:0 (the port is read from its log).
  std::function<std::vector<std::string>(std::size_t n, std::uint64_t size)> argv;
  std::string_view ready;  ///< the log line that says it serves
  std::function<open_loop::request_fn(int port, std::uint64_t size)> request;
  /// Instead of argv, ready and request, for a service with helpers: start
  /// it all with N and the request size, logs at LOG_PREFIX*.log; a request's
  /// answer counts as a timeout after `timeout`.
  std::function<status(std::size_t n, std::uint64_t size, const std::string& log_prefix,
                       std::chrono::milliseconds timeout, running_service& out)>
      start{};
};

/// Start `s` with N = n: its start() when it has one, else its argv on a
/// loopback port read from its log, and its request. Errors: the server's
/// (service_process::start), or io_error when no port is logged.
status start_service(const service_workload& s, std::size_t n, std::uint64_t size, const std::string& log_prefix,
                     std::chrono::milliseconds timeout, running_service& out);

/// Every service workload, in --help's order.
std::span<const service_workload> service_workload_table();
/// The one named `name`, or nullptr.
const service_workload* find_service_workload(std::string_view name);

}  // namespace scalekit::scale
