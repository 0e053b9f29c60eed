// The converter of images that are not 1-bit BMPs: libvips reads them, makes
// them grey and thresholds at 128. Built into scalekit-heavy (and the tests)
// only, as an object library: its static initializer installs it, so the
// light executable, which has no libvips, never sees it.

#include <cstdint>
#include <string>
#include <vips/vips8>

#include "imaging/vips_support.h"
#include "scalekit/jobs/rle/rle.h"

namespace scalekit::jobs::rle {

namespace {

status too_large(const std::string& path, int w, int h) {
  return status::too_large("'" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                           "; the RLE format holds at most " + std::to_string(max_side) + " on a side");
}

result<bitmap> load_converted(const std::string& path) {
  try {
    imaging::ensure_vips();
    if (vips_foreign_find_load(path.c_str()) == nullptr) {
      imaging::take_vips_error();
      return status::corruption("'" + path + "' is not an image");  // bad data, not a bad argument
    }
    vips::VImage im = vips::VImage::new_from_file(
        path.c_str(),
        vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", VIPS_FAIL_ON_ERROR));
    if (im.width() > static_cast<int>(max_side) || im.height() > static_cast<int>(max_side))
      return too_large(path, im.width(), im.height());
    if (im.has_alpha()) im = im.flatten(vips::VImage::option()->set("background", 255.0));
    im = im.colourspace(VIPS_INTERPRETATION_B_W);
    if (im.bands() > 1) im = im.extract_band(0);
    if (im.format() != VIPS_FORMAT_UCHAR) im = im.cast(VIPS_FORMAT_UCHAR, vips::VImage::option()->set("shift", true));
    std::size_t size = 0;
    void* mem = im.write_to_memory(&size);
    const auto* px = static_cast<const std::uint8_t*>(mem);
    bitmap out(static_cast<std::uint32_t>(im.width()), static_cast<std::uint32_t>(im.height()));
    for (std::uint32_t y = 0; y < out.height(); ++y) {
      std::uint8_t* dst = out.row(y);
      const std::uint8_t* src = px + std::size_t{y} * out.width();
      for (std::uint32_t x = 0; x < out.width(); ++x)
        if (src[x] >= 128) dst[x >> 3] |= static_cast<std::uint8_t>(0x80 >> (x & 7));
    }
    g_free(mem);
    return out;
  } catch (const vips::VError& e) {
    // libvips may give no words (a PNG cut inside its first chunks).
    std::string why = imaging::one_line(e.what());
    if (imaging::file_cut_short(path))
      why = "truncated: the file ends before its image does" + (why.empty() ? "" : " (" + why + ")");
    else if (why.empty())
      why = "the image decoder gave no reason";
    return status::corruption("cannot read '" + path + "': " + why);
  }
}

[[maybe_unused]] const bool installed = (set_converter(load_converted), true);

}  // namespace

}  // namespace scalekit::jobs::rle
