// scalekit dummyimage serve: flags -> dummyimage::server_options -> the service,
// until a stop signal.

#include <CLI/CLI.hpp>
#include <chrono>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/dummyimage/dummyimage.h"

namespace scalekit::cli {

namespace {

namespace di = jobs::dummyimage;

struct serve_flags {
  di::server_options job;
  std::string listen = "127.0.0.1:8000";
  double head_timeout_s = 10;
  double idle_timeout_s = 15;
  executor_flags exec;
};

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

void add_command(CLI::App& command) {
  auto* cmd = &command;
  cmd->require_subcommand(1);
  auto f = std::make_shared<serve_flags>();
  auto* serve = cmd->add_subcommand("serve", "Serve GET /<W>x<H>/<bg>/<fg>.<jpg|png> until SIGINT or SIGTERM");
  serve->add_option("--listen", f->listen, "HOST:PORT (port 0: any free port, logged)")->capture_default_str();
  f->exec.add_to(*serve, "threads,processes", "threads");
  serve
      ->add_option("--fail-every", f->job.fail_every,
                   "answer every Nth image request with 503 (a flaky origin, for tests)")
      ->capture_default_str();
  serve->add_option("--max-connections", f->job.max_connections, "connections served at once; more get 503")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  serve
      ->add_option("--head-timeout", f->head_timeout_s,
                   "seconds a client has to send a request head (else 408: slow clients hold nothing)")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve->add_option("--idle-timeout", f->idle_timeout_s, "seconds a kept-alive connection may stay silent")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve->footer(
      "Sides 1..4000; colours of 3 or 6 hex digits. The image is the background colour with a border and "
      "both diagonals in the foreground colour. Other paths get 404, bad sizes or colours 400.");
  serve->callback([f] {
    run_job("dummyimage serve", [f](core::observer& obs) {
      const endpoint ep = parse_endpoint(f->listen);
      f->job.host = ep.host;
      f->job.port = ep.port;
      f->job.head_timeout = milliseconds(f->head_timeout_s);
      f->job.idle_timeout = milliseconds(f->idle_timeout_s);
      auto ex = f->exec.make();
      return di::serve(f->job, *ex, obs);
    });
  });
}

const command_registration registered{{"dummyimage", add_command, di::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
