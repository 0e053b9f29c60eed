// scalekit sort-service serve | call: flags -> sort_service options -> the
// service, or its client.

#include <CLI/CLI.hpp>
#include <iostream>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/sort_service/sort_service.h"

namespace scalekit::cli {

namespace {

namespace ss = jobs::sort_service;

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

struct serve_flags {
  std::string listen = "127.0.0.1:2015";
  double idle_timeout_s = 10;
  double read_timeout_s = 10;
  double write_timeout_s = 10;
  ss::serve_options service;
  executor_flags exec;
};

result<core::report> run_serve(serve_flags& f, core::observer& obs) {
  const endpoint ep = parse_endpoint(f.listen);
  f.service.host = ep.host;
  f.service.port = ep.port;
  f.service.idle_timeout = milliseconds(f.idle_timeout_s);
  f.service.read_timeout = milliseconds(f.read_timeout_s);
  f.service.write_timeout = milliseconds(f.write_timeout_s);
  auto ex = f.exec.make();
  return ss::serve(f.service, *ex, obs);
}

struct call_flags {
  std::string connect = "127.0.0.1:2015";
  double timeout_s = 60;
  std::uint64_t max_bytes = std::uint64_t{64} << 20;
};

result<core::report> run_call(const call_flags& f, core::observer& obs) {
  const endpoint ep = parse_endpoint(f.connect);
  ss::call_options o;
  o.host = ep.host;
  o.port = ep.port;
  o.timeout = milliseconds(f.timeout_s);
  o.input = &std::cin;
  o.max_bytes = f.max_bytes;
  return ss::call(o, obs);
}

void add_command(CLI::App& command) {
  command.require_subcommand(1);

  auto s = std::make_shared<serve_flags>();
  auto* serve =
      command.add_subcommand("serve",
                             "Serve until SIGINT/SIGTERM: 8-byte big-endian length + JSON array -> sorted array");
  serve->add_option("--listen", s->listen, "HOST:PORT (port 0: any free port, logged)")->capture_default_str();
  serve->add_option("--max-bytes", s->service.max_bytes, "largest request body accepted")->capture_default_str();
  serve
      ->add_option("--max-in-flight", s->service.max_in_flight,
                   "bytes all requests being read or sorted may hold; past it, 'busy' error replies")
      ->capture_default_str();
  serve->add_option("--max-connections", s->service.max_connections, "connections served at once; more get an error")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  serve->add_option("--idle-timeout", s->idle_timeout_s, "seconds a new connection may stay silent")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve->add_option("--read-timeout", s->read_timeout_s, "seconds for the body, once its length has arrived")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve->add_option("--write-timeout", s->write_timeout_s, "seconds a client may take none of its reply")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  s->exec.add_to(*serve, "threads,processes", "threads");
  serve->callback([s] { run_job("sort-service serve", [s](core::observer& obs) { return run_serve(*s, obs); }); });

  auto c = std::make_shared<call_flags>();
  auto* call = command.add_subcommand("call", "Send the JSON array on stdin, print the reply");
  call->add_option("--connect", c->connect, "HOST:PORT")->capture_default_str();
  call->add_option("--timeout", c->timeout_s, "seconds to wait for the reply")->capture_default_str();
  call->add_option("--max-bytes", c->max_bytes, "largest request read from stdin")->capture_default_str();
  call->callback([c] { run_job("sort-service call", [c](core::observer& obs) { return run_call(*c, obs); }); });
}

const command_registration registered{{"sort-service", add_command, jobs::sort_service::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
