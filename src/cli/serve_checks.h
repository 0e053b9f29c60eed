#pragma once
// The checks of serve's flags that CLI11 has no validator for.

#include <CLI/CLI.hpp>

namespace scalekit::cli {

/// Each ':'-separated part of a path list (--pythonpath) names a directory that exists.
CLI::Validator existing_directories();

/// A redis:// URL the task queue's client accepts (--broker, --cache).
CLI::Validator redis_url();

}  // namespace scalekit::cli
