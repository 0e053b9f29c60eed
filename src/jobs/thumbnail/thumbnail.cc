// Thumbnails: JPEG, plain PNG and simple WebP on the fast path (fast_path.h);
// the rest with libvips (vips_path.h), linked in or loaded as a plugin.

#include "scalekit/jobs/thumbnail/thumbnail.h"

#include "fast_path.h"
#include "scalekit/core/input_file.h"
#include "vips_path.h"

namespace scalekit::jobs::thumbnail {

report from_file(const std::string& in, const std::string& out, const options& o) {
  // A FIFO or a device (a link to /dev/zero) is refused before anything reads
  // it: reading one blocks, or never ends. The file opened here is the one
  // the fast path reads: one open, one read.
  auto file = core::open_input(in);
  if (!file.ok()) {
    const std::string prefix = "cannot read '" + in + "': ";
    const std::string& m = file.error().message();
    return report{outcome::failed, "cannot read: " + (m.rfind(prefix, 0) == 0 ? m.substr(prefix.size()) : m)};
  }
  if (auto fast = detail::fast_from_file(*file, out, o)) return *fast;
  return detail::get_vips_path().from_file(in, o, [&](const void* png, std::size_t size) {
    return detail::write_whole(out, png, size);
  });
}

namespace {

// An image in memory, its thumbnail's PNG to `sink`: the fast path, else libvips.
report thumbnail_buffer(std::string_view data, const options& o, const detail::png_sink& sink) {
  if (auto fast = detail::fast_thumbnail(data, o, sink)) return *fast;
  return detail::get_vips_path().from_buffer(data, o, sink);
}

}  // namespace

report from_buffer(std::string_view data, const std::string& out, const options& o) {
  return thumbnail_buffer(data, o,
                          [&](const void* png, std::size_t size) { return detail::write_whole(out, png, size); });
}

report to_png(std::string_view data, const options& o, std::string& png) {
  return thumbnail_buffer(data, o, [&](const void* bytes, std::size_t size) {
    png.assign(static_cast<const char*>(bytes), size);
    return status{};
  });
}

}  // namespace scalekit::jobs::thumbnail
