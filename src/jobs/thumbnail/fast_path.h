#pragma once
// Internal: thumbnails without libvips for the common cases, JPEG, plain
// PNG and simple WebP, chosen by the first bytes. Whatever it does not cover (other formats,
// ICC profiles but sRGB, transparency, interlace, every damaged file)
// it declines, and thumbnail.cc's libvips path makes or refuses the image
// with the messages it always had.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "scalekit/core/input_file.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::jobs::thumbnail::detail {

/// Where a thumbnail's PNG bytes go: a file (write_whole) or memory. A
/// non-OK status fails the thumbnail with its message.
using png_sink = std::function<status(const void* png, std::size_t size)>;

/// The thumbnail of the image `data`, its PNG handed to `sink`, and its
/// report; or nullopt, nothing handed, when the image is not one the fast
/// path takes. A failing sink is a report.
std::optional<report> fast_thumbnail(std::string_view data, const options& o, const png_sink& sink);

/// fast_thumbnail written whole to `out` (PNG, the parent directories made).
std::optional<report> fast_from_buffer(std::string_view data, const std::string& out, const options& o);

/// The same for the file `in`, opened by the caller (open_input: a regular
/// file), read whole with one read from where it stands; nullopt too when it
/// cannot be read (libvips then says why).
std::optional<report> fast_from_file(const core::input_file& in, const std::string& out, const options& o);

/// Writes `size` bytes to `out` whole or not at all, making its parent
/// directories; the failure reads "cannot write: <why>".
status write_whole(const std::string& out, const void* data, std::size_t size);

}  // namespace scalekit::jobs::thumbnail::detail
