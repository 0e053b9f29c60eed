#pragma once
// Internal: thumbnails without libvips for the common cases, JPEG and plain
// PNG, chosen by the first bytes. Whatever it does not cover (other formats,
// ICC profiles but sRGB, transparency, interlace, every damaged file)
// it declines, and thumbnail.cc's libvips path makes or refuses the image
// with the messages it always had.

#include <optional>
#include <string>
#include <string_view>

#include "scalekit/core/input_file.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::jobs::thumbnail::detail {

/// The thumbnail of the image `data` written whole to `out` (PNG, the parent
/// directories made), and its report; or nullopt, nothing written, when the
/// image is not one the fast path takes. A failure to write is a report.
std::optional<report> fast_from_buffer(std::string_view data, const std::string& out, const options& o);

/// The same for the file `in`, opened by the caller (open_input: a regular
/// file), read whole with one read from where it stands; nullopt too when it
/// cannot be read (libvips then says why).
std::optional<report> fast_from_file(const core::input_file& in, const std::string& out, const options& o);

/// Writes `size` bytes to `out` whole or not at all, making its parent
/// directories; the failure reads "cannot write: <why>".
status write_whole(const std::string& out, const void* data, std::size_t size);

}  // namespace scalekit::jobs::thumbnail::detail
