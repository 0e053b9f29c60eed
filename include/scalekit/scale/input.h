#pragma once
// Reading measurements for `scale fit`: CSV or JSON.
//
// CSV: a header naming the concurrency column (n, workers, concurrency, or the
// names of R's usl data sets: load, users, threads, processors, clients) and
// the throughput column (x, throughput or rate), case-insensitive, other
// columns ignored; then one measurement per line. Blank lines and lines
// starting with '#' are skipped.
// JSON: an array of objects with the same keys, values as numbers:
//   [{"concurrency": 1, "throughput": 955.2}, ...]
// The format is told by the first character that is not a space: '[' is JSON.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/status.h"
#include "scalekit/scale/usl.h"

namespace scalekit::scale {

/// Parse `text`, which came from `name` (used in messages). Returns the
/// measurements in input order, each with its line; or invalid_argument with
/// one line "NAME:LINE: problem" for a missing header or column, a value that
/// is not a number, negative or not finite, n < 1, or no data.
result<std::vector<measurement>> parse_measurements(std::string_view text, std::string_view name);

/// The largest input read: far more than any sweep's measurements.
inline constexpr std::uint64_t max_input_bytes = 64 << 20;

/// Read and parse the file at `path` ("-": stdin, named "stdin" in messages).
/// Errors as core::open_input (not_found, io_error for a FIFO, a device or a
/// directory); too_large past max_input_bytes.
result<std::vector<measurement>> read_measurements(const std::string& path);

}  // namespace scalekit::scale
