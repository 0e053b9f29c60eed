// find::run: the job's one entry, from a query and a root to output lines and a report.

#include <chrono>

#include "scalekit/core/executor.h"
#include "scalekit/core/job.h"
#include "scalekit/jobs/find/find.h"

namespace scalekit::jobs::find {

result<core::report> run(const options& o, core::observer& obs) {
  if (o.query.empty()) return status::invalid_argument("QUERY must not be empty");
  walk_options wo;
  wo.threads = o.threads;
  wo.stop = obs.stop_token();
  const auto t0 = std::chrono::steady_clock::now();
  auto walked = walk(
      o.root, o.query, wo, [&](std::string_view paths) { obs.output(paths); },
      [&](const std::string& msg) { obs.message(msg); });
  if (!walked.ok()) {
    // A root that is not a directory is a failed job, not bad usage: walk()
    // calls it invalid_argument, the command line's exit status stays 1.
    if (walked.error().code() == status_code::invalid_argument) return status::io_error(walked.error().message());
    return walked.error();
  }
  if (obs.stop_requested()) return status::cancelled("find stopped");
  const walk_stats& s = walked.value();

  core::report r("find");
  r.work = std::to_string(s.matches) + " matches among " + std::to_string(s.entries) + " paths in " +
           std::to_string(s.directories) + " directories, " + std::to_string(s.errors) + " unreadable";
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(s.entries);
  r.unit = "paths";
  // The rule of every command: an item that could not be done, here a
  // directory that could not be read, makes the exit status 1.
  r.failures = s.errors;
  // The head says these.
  r.add("matches", s.matches, "");
  r.add("paths", s.entries, "");
  r.add("directories", s.directories, "");
  r.add("unreadable", s.errors, "");
  r.add("executor", std::string("threads"), "{}");
  r.add("jobs", static_cast<std::uint64_t>(o.threads == 0 ? core::default_jobs() : o.threads), "-j {}");
  return r;
}

}  // namespace scalekit::jobs::find
