// The services a sweep loads (service_load.h). Each is this scalekit binary
// (/proc/self/exe) as a child process on a free loopback port.

#include "service_load.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "scalekit/taskqueue/client.h"
#include "service_requests.h"

namespace scalekit::scale {

namespace {

using core::executor_kind;

std::vector<std::string> with_n(std::vector<std::string> argv, std::size_t n) {
  for (auto& a : argv)
    if (a == "N") a = std::to_string(n);
  return argv;
}

// The distributed worker: a private Redis on a free port, `scalekit worker
// -c N` on it, and requests through the distributed executor (a core
// executor whose calls are Celery messages), each the sort-service's task on a
// JSON array: the whole path of a task, publish to result.
status start_worker(std::size_t n, std::uint64_t size, const std::string& prefix, std::chrono::milliseconds timeout,
                    running_service& out) {
  auto redis = std::make_unique<service_process>();
  const int port = free_loopback_port();
  const std::string dir = prefix.substr(0, prefix.rfind('/'));
  if (auto st = redis->start({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", dir},
                             prefix + "-redis.log", "Ready to accept connections");
      !st.ok())
    return st;
  out.helpers.push_back(std::move(redis));
  const std::string url = fmt::format("redis://127.0.0.1:{}/0", port);
  out.server = std::make_unique<service_process>();
  if (auto st = out.server->start({"/proc/self/exe", "worker", "--broker", url, "-c", std::to_string(n), "--pool",
                                   "processes"},
                                  prefix + ".log", "consuming");
      !st.ok())
    return st;
  taskqueue::distributed_options d;
  d.broker = url;
  d.celery_tasks = false;  // scalekit.run: the core task by name
  d.jobs = n;
  d.task_timeout = timeout;
  std::shared_ptr<core::executor> ex = taskqueue::make_distributed_executor(d);
  auto body = std::make_shared<const std::string>(random_json_array(size));
  out.request = [ex, body]() -> core::task<bool> {
    // "sort.json": the sort-service's task (src/jobs/sort_service/sort_json.h), registered in every scalekit.
    auto r = co_await core::async_call(*ex, "sort.json", *body);
    co_return r.ok() && !r->empty() && r->front() == '[';
  };
  return {};
}

const std::vector<service_workload>& table() {
  static const std::vector<service_workload> all = [] {
    std::vector<service_workload> s(4);
    s[0].w = {.name = "sort-service",
              .size_name = "numbers per request",
              .about =
                  "sort-service serve --executor processes -j N: one connection per request, a JSON array "
                  "of random integers sorted (open-loop, Poisson arrivals)",
              .default_sizes = {1000},
              .min_size = 1,
              .max_size = 1'000'000,
              .executors = {executor_kind::processes},
              .run = nullptr,
              .cpu_covers = "the server's process tree (sort-service and its sorting processes), from /proc"};
    s[0].knob = "sorting processes";
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
              .run = nullptr,
              .cpu_covers = "the dns server's process (all its threads), from /proc"};
    s[1].knob = "event-loop threads";
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
              .run = nullptr,
              .cpu_covers = "the server's process tree (the master and its N workers), from /proc"};
    s[2].knob = "worker processes";
    s[2].start_rate = 50;
    s[2].argv = [](std::size_t n, std::uint64_t) {
      return with_n({"/proc/self/exe", "serve", "--listen", "127.0.0.1:0", "--workers", "N", "--threads", "1", "-j",
                     "1", "--cache-mb", "0", "--grace", "1"},
                    n);
    };
    s[2].ready = " ready\n";  // "1 worker ready", "N workers ready" (not "... ready after 5 s")
    s[2].request = [](int port, std::uint64_t size) { return serve_request(port, size); };
    s[3].w = {.name = "worker",
              .size_name = "numbers per task",
              .about =
                  "worker -c N --pool processes on a private Redis: the sort-service's task on a JSON array, "
                  "published and its result awaited through the distributed executor (open-loop, Poisson "
                  "arrivals)",
              .default_sizes = {1000},
              .min_size = 1,
              .max_size = 1'000'000,
              .executors = {executor_kind::processes},
              .run = nullptr,
              .cpu_covers =
                  "the worker's process tree (the worker and its N pool processes), from /proc; the Redis "
                  "broker's CPU is counted apart (broker CPU per request), the client's (the load generator's "
                  "distributed executor) is the generator's"};
    s[3].knob = "task slots";
    s[3].start_rate = 50;
    s[3].start = start_worker;
    // Six distinct N: the fewest the USL and Amdahl's law are fitted from (sweep_plan.h).
    for (auto& x : s) x.default_workers = {1, 2, 3, 4, 5, 6};
    return s;
  }();
  return all;
}

}  // namespace

std::span<const service_workload> service_workload_table() { return table(); }

status start_service(const service_workload& s, std::size_t n, std::uint64_t size, const std::string& log_prefix,
                     std::chrono::milliseconds timeout, running_service& out) {
  if (s.start) return s.start(n, size, log_prefix, timeout, out);
  out.server = std::make_unique<service_process>();
  if (auto st = out.server->start(s.argv(n, size), log_prefix + ".log", s.ready); !st.ok()) return st;
  const int port = logged_port(out.server->log());
  if (port <= 0) return status::io_error(fmt::format("{}: no port in its log: {}", s.w.name, out.server->log()));
  out.request = s.request(port, size);
  return {};
}

const service_workload* find_service_workload(std::string_view name) {
  const auto& all = table();
  const auto it = std::find_if(all.begin(), all.end(), [&](const service_workload& s) { return s.w.name == name; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace scalekit::scale
