// scalekit sort-service serve | call: the seed's sort service and a client.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <iterator>
#include <spdlog/spdlog.h>

#include "common.h"
#include "scalekit/core/signals.h"
#include "scalekit/jobs/sort_service/sort_service.h"

namespace scalekit::cli {

namespace {

namespace ss = jobs::sort_service;

struct serve_options {
  std::string listen = "127.0.0.1:2015";
  std::uint64_t max_bytes = std::uint64_t{64} << 20;
  double idle_timeout_s = 10;
  double read_timeout_s = 10;
  executor_flags exec;
};

int run_serve(const serve_options& o) {
  const endpoint ep = parse_endpoint(o.listen);
  ss::server_options so;
  so.stop = core::stop_signals::install().token();
  so.host = ep.host;
  so.port = ep.port;
  so.max_bytes = o.max_bytes;
  so.idle_timeout = std::chrono::milliseconds(static_cast<long>(o.idle_timeout_s * 1000));
  so.read_timeout = std::chrono::milliseconds(static_cast<long>(o.read_timeout_s * 1000));
  auto ex = o.exec.make();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ss::serve(so, *ex, [](const std::string& line) {
    std::fprintf(stderr, "sort-service: %s\n", line.c_str());
    std::fflush(stderr);
  });
  if (!r.ok()) throw std::runtime_error(r.error().message());
  ex->close();
  print_summary("sort-service",
                fmt::format("{} connections, {} sorted, {} error replies, {} dropped", r->connections, r->sorted,
                            r->errors, r->dropped),
                std::chrono::steady_clock::now() - t0, static_cast<double>(r->connections), "connections",
                fmt::format("{} -j {}, {}", o.exec.executor, ex->concurrency(), ex->get_stats().latency_summary()));
  return exit_ok;
}

struct call_options {
  std::string connect = "127.0.0.1:2015";
  double timeout_s = 60;
};

int run_call(const call_options& o) {
  const endpoint ep = parse_endpoint(o.connect);
  const std::string body((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto r = ss::call(ep.host, ep.port, body, std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000)));
  if (!r.ok()) throw std::runtime_error(r.error().message());
  std::printf("%s\n", r->c_str());
  return r->rfind("{\"error\"", 0) == 0 ? exit_failed : exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto* svc = &command;
  svc->require_subcommand(1);

  auto s = std::make_shared<serve_options>();
  auto* serve =
      svc->add_subcommand("serve", "Serve until SIGINT/SIGTERM: 8-byte big-endian length + JSON array -> sorted array");
  serve->add_option("--listen", s->listen, "HOST:PORT (port 0: any free port, logged)")->capture_default_str();
  serve->add_option("--max-bytes", s->max_bytes, "largest request body accepted")->capture_default_str();
  serve->add_option("--idle-timeout", s->idle_timeout_s, "seconds a new connection may stay silent")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve->add_option("--read-timeout", s->read_timeout_s, "seconds for the body, once its length has arrived")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  s->exec.add_to(*serve, "threads,processes", "threads");
  serve->callback([s] { run_job("sort-service serve", [&] { return run_serve(*s); }); });

  auto c = std::make_shared<call_options>();
  auto* call = svc->add_subcommand("call", "Send the JSON array on stdin, print the reply");
  call->add_option("--connect", c->connect, "HOST:PORT")->capture_default_str();
  call->add_option("--timeout", c->timeout_s, "seconds to wait for the reply")->capture_default_str();
  call->callback([c] { run_job("sort-service call", [&] { return run_call(*c); }); });
}

const command_registration registered{{"sort-service", add_command, jobs::sort_service::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
