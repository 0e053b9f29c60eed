#pragma once
// libvips for the image jobs: started once per process, on first use (so
// commands that draw no image never pay for it, and re-executed worker
// processes start it when their first image task arrives).

#include <string>

namespace scalekit::jobs::imaging {

/// VIPS_INIT once, with libvips' own threading at one thread: our executors
/// decide how many images run at once. Thread-safe.
/// @throws std::runtime_error when libvips cannot start.
void ensure_vips();

/// libvips' pending error text, cleared, on one line ("" when none).
std::string take_vips_error();

/// A libvips message (several lines, a trailing newline) as one line.
std::string one_line(std::string text);

}  // namespace scalekit::jobs::imaging
