// scalekit dummyimage serve: the offline stand-in for dummyimage.com.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "common.h"
#include "scalekit/core/signals.h"
#include "scalekit/jobs/dummyimage/dummyimage.h"

namespace scalekit::cli {

namespace {

struct dummyimage_cli {
  std::string listen = "127.0.0.1:8000";
  std::uint64_t fail_every = 0;
  executor_flags exec;
};

int run_serve(const dummyimage_cli& o) {
  const endpoint ep = parse_endpoint(o.listen);
  jobs::dummyimage::server_options so;
  so.stop = core::stop_signals::install().token();
  so.host = ep.host;
  so.port = ep.port;
  so.fail_every = o.fail_every;
  auto ex = o.exec.make();
  const auto s = jobs::dummyimage::serve(so, *ex, [](const std::string& line) {
    std::fprintf(stderr, "dummyimage: %s\n", line.c_str());
    std::fflush(stderr);
  });
  ex->close();
  if (!s.ok()) throw std::runtime_error(s.message());
  return exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto* cmd = &command;
  cmd->require_subcommand(1);
  auto o = std::make_shared<dummyimage_cli>();
  auto* serve = cmd->add_subcommand("serve", "Serve GET /<W>x<H>/<bg>/<fg>.<jpg|png> until SIGINT or SIGTERM");
  serve->add_option("--listen", o->listen, "HOST:PORT (port 0: any free port, logged)")->capture_default_str();
  o->exec.add_to(*serve, "threads,processes", "threads");
  serve
      ->add_option("--fail-every", o->fail_every, "answer every Nth image request with 503 (a flaky origin, for tests)")
      ->capture_default_str();
  serve->footer(
      "Sides 1..4000; colours of 3 or 6 hex digits. The image is the background colour with a border and "
      "both diagonals in the foreground colour. Other paths get 404, bad sizes or colours 400.");
  serve->callback([o] { run_job("dummyimage serve", [&] { return run_serve(*o); }); });
}

const command_registration registered{{"dummyimage", add_command, jobs::dummyimage::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
