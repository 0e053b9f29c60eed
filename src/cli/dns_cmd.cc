// scalekit dns serve: flags -> net::dns::server_options -> the service.

#include <CLI/CLI.hpp>

#include "command.h"
#include "runner.h"
#include "scalekit/net/dns_server.h"

namespace scalekit::cli {

namespace {

namespace dns = net::dns;

struct serve_flags {
  std::string listen = "127.0.0.1:4343";
  bool no_tcp = false;
  double tcp_idle_s = 10;
  dns::server_options service;
};

result<core::report> run_serve(serve_flags& f, core::observer& obs) {
  const endpoint ep = parse_endpoint(f.listen);
  f.service.host = ep.host;
  f.service.port = ep.port;
  f.service.tcp = !f.no_tcp;
  f.service.tcp_idle_timeout = std::chrono::milliseconds(static_cast<long>(f.tcp_idle_s * 1000));
  return dns::serve(f.service, obs);
}

void add_command(CLI::App& command) {
  command.require_subcommand(1);
  auto f = std::make_shared<serve_flags>();
  auto* serve = command.add_subcommand(
      "serve",
      "Answer A queries until SIGINT/SIGTERM. Default zone: facebook.com, yougov.com, wipo.int; anything else "
      "127.0.0.1");
  serve->add_option("--listen", f->listen, "HOST:PORT for UDP and TCP (port 0: any free port, logged)")
      ->capture_default_str();
  serve->add_option("--zone", f->service.zone_file,
                    "file of 'name IP [IP...]' lines (each at most 64 KiB), instead of the seed's three names");
  serve->add_flag("--nxdomain", f->service.nxdomain,
                  "answer unknown names with NXDOMAIN instead of the default address");
  serve->add_option("--default-address", f->service.default_address, "the address of unknown names")
      ->capture_default_str();
  serve->add_option("-j,--jobs", f->service.threads, "event-loop threads, each with its own UDP socket (SO_REUSEPORT)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
      ->capture_default_str();
  serve->add_flag("--no-tcp", f->no_tcp, "UDP only");
  serve->add_option("--tcp-idle-timeout", f->tcp_idle_s, "seconds a TCP client may stay silent")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve
      ->add_option("--max-tcp-connections", f->service.max_tcp_connections,
                   "TCP connections at once; more are closed on accept")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  serve->add_flag("--log-queries", f->service.log_queries, "one line per query on stderr, as the seed prints (slow)");
  serve->callback([f] { run_job("dns serve", [f](core::observer& obs) { return run_serve(*f, obs); }); });
}

const command_registration registered{{"dns", add_command}};

}  // namespace

}  // namespace scalekit::cli
