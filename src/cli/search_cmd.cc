// scalekit search: flags -> search::options -> the job.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "command.h"
#include "executor_flags.h"
#include "runner.h"
#include "scalekit/jobs/search/search.h"

namespace scalekit::cli {

namespace {

namespace search = jobs::search;

struct search_flags {
  search::options job;
  executor_flags exec;
};

// Whoever sends queries on stdin may wait for each answer before sending the
// next (a person, or a program in a dialogue with us): each answer leaves
// stdout at once rather than when the buffer fills.
class flushing_observer final : public core::observer {
 public:
  explicit flushing_observer(core::observer& inner) : core::observer(inner.stop_token()), inner_(inner) {}
  void progress(std::uint64_t done, std::uint64_t total, std::string_view unit) override {
    inner_.progress(done, total, unit);
  }
  void output(std::string_view lines) override {
    inner_.output(lines);
    std::fflush(stdout);
  }
  void message(std::string_view line) override { inner_.message(line); }

 private:
  core::observer& inner_;
};

result<core::report> run(search_flags& f, core::observer& obs) {
  if (f.job.queries.empty()) {
    f.job.query_fd = 0;
    f.job.interactive = ::isatty(0) != 0;
  }
  auto ex = f.exec.make();
  flushing_observer flushing(obs);
  return search::run(f.job, *ex, flushing);
}

void add_command(CLI::App& command) {
  auto f = std::make_shared<search_flags>();
  auto* cmd = &command;
  cmd->add_option("dir", f->job.dir, "directory to load (recursively; symbolic links not followed)")->required();
  cmd->add_option("queries", f->job.queries, "text to look for; none: read queries from stdin, one per line");
  cmd->add_flag("-H,--with-filename", f->job.engine.with_filename, "prefix each line with its file's path");
  cmd->add_flag("-n,--line-number", f->job.engine.line_number, "prefix each line with its line number");
  cmd->add_option("--max-bytes", f->job.engine.max_bytes, "largest corpus to load; files past it are refused")
      ->capture_default_str();
  cmd->add_option("--in-flight", f->job.in_flight, "queries from stdin answered at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  f->exec.add_to(*cmd, "processes,threads,serial", "processes");
  cmd->footer(
      "Lines are printed stripped of surrounding whitespace, as the seed prints them, in file order. Files "
      "with a NUL byte in their first 8 KiB are binary and skipped. Exit status 1 when a file could not be "
      "read or a query failed.");
  cmd->callback([f] { run_job("search", [f](core::observer& obs) { return run(*f, obs); }); });
}

const command_registration registered{{"search", add_command, jobs::search::register_tasks}};

}  // namespace

}  // namespace scalekit::cli
