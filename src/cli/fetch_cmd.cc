// scalekit fetch: flags -> fetch::options -> the job (many URLs at once on one event loop).

#include <CLI/CLI.hpp>
#include <chrono>

#include "command.h"
#include "runner.h"
#include "scalekit/jobs/fetch/fetch.h"

namespace scalekit::cli {

namespace {

struct fetch_flags {
  jobs::fetch::options job;
  double timeout_s = 60;
};

void add_command(CLI::App& command) {
  auto f = std::make_shared<fetch_flags>();
  auto* cmd = &command;
  cmd->add_option("urls", f->job.urls, "http:// or https:// URLs")->required();
  cmd->add_option("--timeout", f->timeout_s, "seconds per request")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  cmd->add_option("-j,--jobs", f->job.max_parallel, "transfers at once (I/O-bound, so more than the cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
      ->capture_default_str();
  cmd->add_flag("--fail", f->job.fail_on_http_error, "exit status 1 also when a response has HTTP status >= 400");
  cmd->footer(
      "<length> is the body's size in bytes after content decoding. Redirects are followed; the line "
      "names the URL as given. A URL that gets no response (refused, no such host, timed out) is one error "
      "line on stderr, and the exit status is 1.");
  cmd->callback([f] {
    run_job("fetch", [f](core::observer& obs) {
      f->job.timeout = std::chrono::milliseconds(static_cast<long>(f->timeout_s * 1000));
      return jobs::fetch::run(f->job, obs);
    });
  });
}

const command_registration registered{{"fetch", add_command}};

}  // namespace

}  // namespace scalekit::cli
