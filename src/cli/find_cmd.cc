// scalekit find: the seed's parallel find_files.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"
#include "scalekit/jobs/find/find.h"

namespace scalekit::cli {

namespace {

struct find_options {
  std::string query;
  std::string root = ".";
  std::size_t jobs = 0;
};

int run(const find_options& o) {
  if (o.query.empty()) throw usage_error("QUERY must not be empty");
  const auto t0 = std::chrono::steady_clock::now();
  jobs::find::walk_options wo;
  wo.threads = o.jobs;
  auto r = jobs::find::walk(
      o.root, o.query, wo,
      [](std::string_view paths) {
        if (!globals().json) std::fwrite(paths.data(), 1, paths.size(), stdout);
      },
      [](const std::string& msg) { print_error("find", msg); });
  if (!r.ok()) throw std::runtime_error(r.error().message());
  std::fflush(stdout);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  print_summary("find",
                fmt::format("{} matches among {} paths in {} directories, {} unreadable", r->matches, r->entries,
                            r->directories, r->errors),
                elapsed, static_cast<double>(r->entries), "paths",
                fmt::format("threads -j {}", o.jobs == 0 ? core::default_jobs() : o.jobs));
  if (globals().json) {
    std::printf("%s\n", nlohmann::json{{"job", "find"},
                                       {"matches", r->matches},
                                       {"paths", r->entries},
                                       {"directories", r->directories},
                                       {"unreadable", r->errors},
                                       {"elapsed_s", std::chrono::duration<double>(elapsed).count()}}
                            .dump()
                            .c_str());
  }
  return exit_ok;  // unreadable directories are reported, as find does, but the walk itself succeeded
}

}  // namespace

namespace {

void add_command(CLI::App& command) {
  auto o = std::make_shared<find_options>();
  auto* cmd = &command;
  cmd->add_option("query", o->query, "text the full path must contain")->required();
  cmd->add_option("root", o->root, "directory to walk")->capture_default_str();
  cmd->add_option("-j,--jobs", o->jobs, "threads (default: number of cores)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  cmd->callback([o] { run_job("find", [&] { return run(*o); }); });
}

const command_registration registered{{"find", add_command}};

}  // namespace

}  // namespace scalekit::cli
