// The libvips path (vips_path.h): header first (the pixel limit), then
// vips_thumbnail's shrink-on-load, then PNG to the sink. Built into
// scalekit-heavy and the tests, and as the plugin scalekit-thumbnail-vips.so.

#include "vips_path.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <vips/vips8>

#include "imaging/vips_support.h"

namespace scalekit::jobs::thumbnail::detail {

namespace {

report failed(std::string reason) { return report{outcome::failed, std::move(reason)}; }
report skipped() { return report{outcome::skipped, "not an image"}; }

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// libvips' error, without the lines that only say an operation downstream
// failed too ("vips2png: unable to write to target target" after a decode
// error): the cause, in one line.
std::string cause_of(const char* vips_message) {
  std::string kept;
  std::string_view rest(vips_message);
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty() || contains(line, "unable to write to")) continue;
    if (!kept.empty()) kept += ' ';
    kept += line;
  }
  return imaging::one_line(kept.empty() ? std::string(vips_message) : kept);
}

// libvips' words for a file cut short, per loader.
std::string classify(const char* vips_message) {
  const std::string message = cause_of(vips_message);
  std::string lower = message;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool truncated = contains(lower, "premature end") || contains(lower, "truncated") ||
                         contains(lower, "unexpected end") || contains(lower, "end of file") ||
                         contains(lower, "out of data") || contains(lower, "not enough data") ||
                         contains(lower, "short read") || contains(lower, "eof");
  return (truncated ? "truncated: " : "corrupt: ") + message;
}

// A failure's reason. A "corrupt" file that is cut short is "truncated", whatever libvips' words
// ("unable to write", "libpng read error", or none at all for a PNG cut
// inside its first chunks); with no words the reason says there were none.
report failure(const char* vips_message, const std::function<bool()>& is_cut_short) {
  std::string reason = classify(vips_message);
  const bool wordless = reason == "corrupt: ";
  if (reason.rfind("corrupt: ", 0) == 0 && is_cut_short())
    reason = "truncated: " + (wordless ? std::string("the file ends before its image does") : reason.substr(9));
  else if (wordless)
    reason += "the image decoder gave no reason";
  return failed(std::move(reason));
}

// Loaders that would take a text file for an image by its name alone.
bool is_text_loader(std::string_view loader) { return contains(loader, "Csv") || contains(loader, "Matrix"); }

// The part shared by files and buffers: `header` opens the image lazily (no
// pixels decoded), `shrink` makes the thumbnail, `sink` takes its PNG.
report make(const png_sink& sink, const options& o, const std::function<vips::VImage()>& header,
            const std::function<vips::VImage(bool)>& shrink, const std::function<bool()>& is_cut_short) {
  report r;
  try {
    const vips::VImage head = header();
    r.source_width = static_cast<std::uint32_t>(head.width());
    r.source_height = static_cast<std::uint32_t>(head.height());
    const std::uint64_t pixels = std::uint64_t{r.source_width} * r.source_height;
    if (pixels > o.max_pixels)
      return failed("too large: " + std::to_string(r.source_width) + "x" + std::to_string(r.source_height) + " = " +
                    std::to_string(pixels) + " pixels, over the limit of " + std::to_string(o.max_pixels) +
                    " (--max-pixels)");
    // An embedded profile is converted to sRGB. Untagged RGB is taken as sRGB
    // already (a round trip through the built-in profile would shift pure
    // colours); untagged CMYK libvips converts with its own CMYK profile.
    const bool has_profile = head.get_typeof(VIPS_META_ICC_NAME) != 0;
    vips::VImage thumb = shrink(has_profile);
    void* png = nullptr;
    std::size_t size = 0;
    thumb.write_to_buffer(".png", &png, &size);
    struct free_png {
      void* p;
      ~free_png() { g_free(p); }
    } guard{png};
    if (status s = sink(png, size); !s.ok()) return failed(s.message());
    r.what = outcome::made;
    r.width = static_cast<std::uint32_t>(thumb.width());
    r.height = static_cast<std::uint32_t>(thumb.height());
    return r;
  } catch (const vips::VError& e) {
    imaging::take_vips_error();
    return failure(e.what(), is_cut_short);
  }
}

vips::VOption* thumbnail_options(const options& o, bool to_srgb) {
  auto* opt = vips::VImage::option()
                  ->set("height", static_cast<int>(o.height))
                  ->set("size", VIPS_SIZE_DOWN)  // as Pillow's thumbnail: shrink only
                  ->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
  if (to_srgb) opt->set("export_profile", "srgb");
  return opt;
}

report vips_from_file(const std::string& in, const options& o, const png_sink& sink) {
  imaging::ensure_vips();
  const char* loader = vips_foreign_find_load(in.c_str());
  if (loader == nullptr || is_text_loader(loader)) {
    imaging::take_vips_error();
    return skipped();
  }
  return make(
      sink, o,
      [&] {
        return vips::VImage::new_from_file(in.c_str(), vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
      },
      [&](bool to_srgb) {
        return vips::VImage::thumbnail(in.c_str(), static_cast<int>(o.width), thumbnail_options(o, to_srgb));
      },
      [&] { return imaging::file_cut_short(in); });
}

report vips_from_buffer(std::string_view data, const options& o, const png_sink& sink) {
  imaging::ensure_vips();
  const char* loader = vips_foreign_find_load_buffer(data.data(), data.size());
  if (loader == nullptr || is_text_loader(loader)) {
    imaging::take_vips_error();
    return skipped();
  }
  return make(
      sink, o,
      [&] {
        return vips::VImage::new_from_buffer(data.data(), data.size(), "",
                                             vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
      },
      [&](bool to_srgb) {
        VipsBlob* blob = vips_blob_new(nullptr, data.data(), data.size());  // borrows, no copy
        struct unref {
          VipsBlob* b;
          ~unref() { vips_area_unref(VIPS_AREA(b)); }
        } guard{blob};
        return vips::VImage::thumbnail_buffer(
            blob, static_cast<int>(o.width),
            thumbnail_options(o, to_srgb)->set("option_string", "[fail_on=truncated]"));
      },
      [&] {
        return imaging::cut_short(data.substr(0, 8), data.substr(data.size() - std::min<std::size_t>(data.size(), 16)));
      });
}

constexpr vips_path linked{vips_from_file, vips_from_buffer};

}  // namespace

}  // namespace scalekit::jobs::thumbnail::detail

extern "C" __attribute__((visibility("default"))) const scalekit::jobs::thumbnail::detail::vips_path*
scalekit_thumbnail_vips_path() {
  return &scalekit::jobs::thumbnail::detail::linked;
}
