#pragma once
// libvips for the image jobs: started once per process, on first use (so
// commands that draw no image never pay for it, and re-executed worker
// processes start it when their first image task arrives).

#include <string>
#include <string_view>

namespace scalekit::jobs::imaging {

/// VIPS_INIT once, with libvips' own threading at one thread: our executors
/// decide how many images run at once. Thread-safe.
/// @throws std::runtime_error when libvips cannot start.
void ensure_vips();

/// libvips' pending error text, cleared, on one line ("" when none).
std::string take_vips_error();

/// A libvips message (several lines, a trailing newline) as one line.
std::string one_line(std::string text);

/// Whether a JPEG or PNG stops before its end marker (JPEG's EOI, PNG's
/// IEND), from its first bytes (`head`, 8 or more) and its last (`tail`).
/// libvips' error buffer is one for the whole process, and for a file cut
/// early it may hold no words at all: the file itself says what happened.
/// Other formats: false.
bool cut_short(std::string_view head, std::string_view tail);
/// cut_short() of the file `path`; false when it cannot be read.
bool file_cut_short(const std::string& path);

}  // namespace scalekit::jobs::imaging
