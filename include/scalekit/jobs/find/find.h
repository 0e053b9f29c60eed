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

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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
};

/// Walk everything under `root`. on_matches receives a batch of matching
/// paths, each ending in '\n' (called from pool threads, one call at a time);
/// on_error receives one message per unreadable directory (same guarantee).
/// Fails (not_found / io_error) only when `root` itself is not a readable directory.
result<walk_stats> walk(const std::string& root, std::string_view query, const walk_options& options,
                        const std::function<void(std::string_view)>& on_matches,
                        const std::function<void(const std::string&)>& on_error);

}  // namespace scalekit::jobs::find
