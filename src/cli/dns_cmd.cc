// scalekit dns serve: the seed's DNS server, correct and fast.

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/core/signals.h"
#include "scalekit/net/dns_server.h"

namespace scalekit::cli {

namespace {

namespace dns = net::dns;

struct serve_options {
  std::string listen = "127.0.0.1:4343";
  std::string zone_file;
  bool nxdomain = false;
  std::string default_address = "127.0.0.1";
  std::size_t jobs = 1;
  bool no_tcp = false;
  double tcp_idle_s = 10;
  std::size_t max_tcp = 256;
  bool log_queries = false;
};

void log_line(const std::string& line) {
  std::fprintf(stderr, "dns: %s\n", line.c_str());
  std::fflush(stderr);
}

int run_serve(const serve_options& o) {
  const endpoint ep = parse_endpoint(o.listen);
  std::size_t bad_lines = 0;
  dns::zone z = dns::zone::seed_default();
  if (!o.zone_file.empty()) {
    auto loaded = dns::zone::load(o.zone_file, [&](const std::string& msg) {
      ++bad_lines;
      print_error("dns serve", msg);
    });
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message());
    z = std::move(loaded).value();
    if (bad_lines > 0) log_line(fmt::format("zone: {} bad lines skipped", bad_lines));
  }
  if (o.nxdomain) {
    z.set_nxdomain();
  } else {
    in_addr_t parsed = 0;
    if (::inet_pton(AF_INET, o.default_address.c_str(), &parsed) != 1)
      throw usage_error("--default-address '" + o.default_address + "' is not an IPv4 address");
    dns::ipv4 a;
    std::memcpy(a.data(), &parsed, 4);
    z.set_default(a);
  }

  dns::server_options so;
  so.stop = core::stop_signals::install().token();
  so.host = ep.host;
  so.port = ep.port;
  so.threads = o.jobs;
  so.tcp = !o.no_tcp;
  so.tcp_idle_timeout = std::chrono::milliseconds(static_cast<long>(o.tcp_idle_s * 1000));
  so.max_tcp_connections = o.max_tcp;
  so.log_queries = o.log_queries;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = dns::serve(so, z, log_line);
  if (!r.ok()) throw std::runtime_error(r.error().message());
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const std::uint64_t queries = r->udp_queries + r->tcp_queries;
  print_summary(
      "dns serve",
      fmt::format("{} queries ({} udp, {} tcp), {} replies, {} FORMERR, {} NXDOMAIN, {} truncated, {} dropped", queries,
                  r->udp_queries, r->tcp_queries, r->replies, r->formerr, r->nxdomain, r->truncated, r->dropped),
      elapsed, static_cast<double>(queries), "queries",
      fmt::format("-j {}, {} tcp connections, {} refused", o.jobs, r->tcp_connections, r->tcp_refused));
  if (globals().json) {
    std::printf("%s\n", nlohmann::json{{"job", "dns serve"},
                                       {"udp_queries", r->udp_queries},
                                       {"tcp_queries", r->tcp_queries},
                                       {"replies", r->replies},
                                       {"formerr", r->formerr},
                                       {"nxdomain", r->nxdomain},
                                       {"truncated", r->truncated},
                                       {"dropped", r->dropped},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  }
  return exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto* dns_cmd = &command;
  dns_cmd->require_subcommand(1);
  auto o = std::make_shared<serve_options>();
  auto* serve = dns_cmd->add_subcommand(
      "serve",
      "Answer A queries until SIGINT/SIGTERM. Default zone: facebook.com, yougov.com, wipo.int; anything else "
      "127.0.0.1");
  serve->add_option("--listen", o->listen, "HOST:PORT for UDP and TCP (port 0: any free port, logged)")
      ->capture_default_str();
  serve->add_option("--zone", o->zone_file, "file of 'name IP [IP...]' lines, instead of the seed's three names")
      ->check(CLI::ExistingFile);
  serve->add_flag("--nxdomain", o->nxdomain, "answer unknown names with NXDOMAIN instead of the default address");
  serve->add_option("--default-address", o->default_address, "the address of unknown names")->capture_default_str();
  serve->add_option("-j,--jobs", o->jobs, "event-loop threads, each with its own UDP socket (SO_REUSEPORT)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
      ->capture_default_str();
  serve->add_flag("--no-tcp", o->no_tcp, "UDP only");
  serve->add_option("--tcp-idle-timeout", o->tcp_idle_s, "seconds a TCP client may stay silent")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  serve->add_option("--max-tcp-connections", o->max_tcp, "TCP connections at once; more are closed on accept")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  serve->add_flag("--log-queries", o->log_queries, "one line per query on stderr, as the seed prints (slow)");
  serve->callback([o] { run_job("dns serve", [&] { return run_serve(*o); }); });
}

const command_registration registered{{"dns", add_command}};

}  // namespace

}  // namespace scalekit::cli
