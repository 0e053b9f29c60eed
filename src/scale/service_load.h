#pragma once
// The services `scalekit scale` sweeps under load: how to start each one with
// N of its own scaling knob, when it is ready, and the request the open-loop
// generator sends it (service_requests.h).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "open_loop.h"
#include "workloads.h"

namespace scalekit::scale {

struct service_workload {
  /// The sweep's view: name, size_name (what a request carries), about,
  /// default_sizes, min/max_size, and executors: the one kind N counts.
  workload w;
  std::string_view knob;  ///< what N is, for --help: "worker processes (serve --workers N)"
  std::vector<std::size_t> default_workers;
  double start_rate = 100;  ///< requests/s of the first step
  /// The server's command line with N and the request size, listening on
  /// 127.0.0.1:0 (the port is read from its log).
  std::function<std::vector<std::string>(std::size_t n, std::uint64_t size)> argv;
  std::string_view ready;  ///< the log line that says it serves
  std::function<open_loop::request_fn(int port, std::uint64_t size)> request;
};

/// Every service workload, in --help's order.
std::span<const service_workload> service_workload_table();
/// The one named `name`, or nullptr.
const service_workload* find_service_workload(std::string_view name);

}  // namespace scalekit::scale
