// scalekit fetch: the seed's aiohttp fetcher, many URLs at once on one event loop.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/net/fetch.h"

namespace scalekit::cli {

namespace {

struct fetch_cli_options {
  std::vector<std::string> urls;
  double timeout_s = 60;
  std::size_t jobs = 64;
  bool fail_on_http_error = false;
};

int run(const fetch_cli_options& o) {
  net::fetch_options fo;
  fo.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  fo.max_parallel = o.jobs;
  std::uint64_t responses = 0, failed = 0, http_errors = 0, bytes = 0;
  nlohmann::json results = nlohmann::json::array();
  progress_line progress("fetch");
  const auto t0 = std::chrono::steady_clock::now();
  net::fetch_all(o.urls, fo, [&](std::size_t, net::fetch_result& r) {
    if (!r.error.ok()) {
      ++failed;
      print_error("fetch", r.url + ": " + r.error.message());
    } else {
      ++responses;
      bytes += r.length;
      if (r.status >= 400) ++http_errors;
      if (!globals().json)
        std::printf("Response for URL %s => %ld %llu\n", r.url.c_str(), r.status,
                    static_cast<unsigned long long>(r.length));
    }
    if (globals().json) {
      nlohmann::json j{{"url", r.url}, {"elapsed_s", std::chrono::duration<double>(r.elapsed).count()}};
      if (r.error.ok()) {
        j["status"] = r.status;
        j["length"] = r.length;
        j["final_url"] = r.final_url;
      } else {
        j["error"] = r.error.message();
      }
      results.push_back(std::move(j));
    }
    std::fflush(stdout);
    progress.update(responses + failed, o.urls.size(), "URLs");
  });
  progress.finish();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  print_summary("fetch",
                fmt::format("{} responses ({} with HTTP status >= 400), {} failed, {} bytes", responses, http_errors,
                            failed, bytes),
                elapsed, static_cast<double>(o.urls.size()), "URLs", fmt::format("{} at once", o.jobs));
  if (globals().json) {
    std::printf("%s\n", nlohmann::json{{"job", "fetch"},
                                       {"responses", responses},
                                       {"failed", failed},
                                       {"http_errors", http_errors},
                                       {"bytes", bytes},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()},
                                       {"results", results}}
                            .dump()
                            .c_str());
  }
  return failed > 0 || (o.fail_on_http_error && http_errors > 0) ? exit_failed : exit_ok;
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<fetch_cli_options>();
  auto* cmd = &command;
  cmd->add_option("urls", o->urls, "http:// or https:// URLs")->required();
  cmd->add_option("--timeout", o->timeout_s, "seconds per request")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  cmd->add_option("-j,--jobs", o->jobs, "transfers at once (I/O-bound, so more than the cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
      ->capture_default_str();
  cmd->add_flag("--fail", o->fail_on_http_error, "exit status 1 also when a response has HTTP status >= 400");
  cmd->footer(
      "<length> is the body's size in bytes after content decoding. Redirects are followed; the line "
      "names the URL as given. A URL that gets no response (refused, no such host, timed out) is one error "
      "line on stderr, and the exit status is 1.");
  cmd->callback([o] { run_job("fetch", [&] { return run(*o); }); });
}

const command_registration registered{{"fetch", add_command}};

}  // namespace

}  // namespace scalekit::cli
