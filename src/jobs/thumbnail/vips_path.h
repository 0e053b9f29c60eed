#pragma once
// Internal: the libvips path, for every image the fast path declines (other
// formats, ICC profiles but sRGB, transparency, interlace, damaged files):
// header first (the pixel limit), then vips_thumbnail's shrink-on-load, then
// the PNG to a sink.
//
// scalekit-heavy and the tests link it in (vips_linked.cc). The process
// pool's workers run scalekit-thumbnail, which has no libvips: it loads
// the plugin scalekit-thumbnail-vips.so from beside itself on the first image
// that needs libvips (vips_plugin.cc), so that a worker that meets only
// fast-path images never loads libvips' hundred shared libraries (about 15 ms
// of CPU per worker start).

#include <string>
#include <string_view>

#include "fast_path.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::jobs::thumbnail::detail {

/// The libvips path's entries. Thread-safe: images are independent.
struct vips_path {
  /// The thumbnail of the file `in`, its PNG handed to `sink`; "not an image"
  /// (skipped) when no loader takes it, the loaders' words when it fails.
  report (*from_file)(const std::string& in, const options& o, const png_sink& sink);
  /// The same for an image in memory.
  report (*from_buffer)(std::string_view data, const options& o, const png_sink& sink);
};

/// This process's libvips path: linked in, or the plugin, loaded on the first
/// call. Thread-safe.
/// @throws std::runtime_error when the plugin cannot be loaded (the call's
/// task fails with it, as when libvips cannot start).
const vips_path& get_vips_path();

}  // namespace scalekit::jobs::thumbnail::detail

/// The plugin's one entry (and the linked path's): the table, static storage.
extern "C" const scalekit::jobs::thumbnail::detail::vips_path* scalekit_thumbnail_vips_path();
