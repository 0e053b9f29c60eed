#pragma once
// The find job: the seed's futures find_files (chapter 14) done right: a
// parallel breadth-first walk on a thread pool. Every directory listing is a
// pool task that queues its subdirectories as new tasks; paths are matched as
// they are listed.
//
// Paths are absolute (the root made absolute, entries joined to it), as the
// seed prints them; a path matches when it contains the query. Symbolic links
// are listed but never followed. A directory that cannot be read is reported
// through on_error and skipped; the walk goes on.
//
// The walk makes its own core::thread_pool rather than taking an executor: a
// listing is I/O-bound and produces more work, which is what threads sharing
// one process are for (see docs/DESIGN.md, "find").

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::find {

struct walk_stats {
  std::uint64_t directories = 0;  ///< directories listed
  std::uint64_t entries = 0;      ///< paths looked at
  std::uint64_t matches = 0;
  std::uint64_t errors = 0;  ///< directories that could not be read
};

struct walk_options {
  std::size_t threads = 0;          ///< 0: one per core
  bool regular_files_only = false;  ///< match only regular files (not directories, links, devices...)
  /// A stop request ends the walk soon: listings not yet started are skipped
  /// and a long one stops between entries. The stats count what was seen.
  std::stop_token stop;
};

/// Walk everything under `root`. on_matches receives a batch of matching
/// paths, each ending in '\n' (called from pool threads, one call at a time);
/// on_error receives one message per unreadable directory (same guarantee).
/// Fails (not_found / io_error) only when `root` itself is not a readable
/// directory (invalid_argument when it is not a directory).
/// Thread-safe: walks share nothing.
result<walk_stats> walk(const std::string& root, std::string_view query, const walk_options& options,
                        const std::function<void(std::string_view)>& on_matches,
                        const std::function<void(const std::string&)>& on_error);

/// The job: what `scalekit find` does.
struct options {
  std::string query{};      ///< text the full path must contain; must not be empty
  std::string root = ".";   ///< directory to walk
  std::size_t threads = 0;  ///< 0: one per core
};

/// Every path under o.root that contains o.query, as output lines (in the
/// order the listings finish, so not sorted), each unreadable directory as a
/// message ("cannot read '<dir>': <reason>"); the walk goes on, and each counts
/// in report.failures and in the report's "unreadable" (the command line's
/// exit status is 1 then, as for every command with items it could not do).
/// Returns invalid_argument for an empty query, not_found or an io_error when
/// the root is missing or not a readable directory, cancelled after a stop
/// request.
/// The report: matches, paths, directories, unreadable, and the threads as
/// executor ("threads") and jobs.
/// Thread safety: one call per observer at a time; output() is called from
/// the walk's threads, one call at a time.
result<core::report> run(const options& o, core::observer& obs);

}  // namespace scalekit::jobs::find
