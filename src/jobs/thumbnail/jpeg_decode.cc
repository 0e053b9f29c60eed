// libjpeg-turbo through its libjpeg API (jpeglib.h): the TurboJPEG API has
// no way to read the EXIF and ICC markers, and this one scales by 1/2, 1/4,
// 1/8 in the DCT just as well. Every warning is an error here: the caller
// hands such files to libvips, whose messages the jobs report.

#include "jpeg_decode.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// clang-format off
#include <jpeglib.h>
// clang-format on

#include "exif_orientation.h"

namespace scalekit::jobs::thumbnail::detail {

namespace {

struct error_manager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
};

[[noreturn]] void on_error(j_common_ptr cinfo) { std::longjmp(reinterpret_cast<error_manager*>(cinfo->err)->jump, 1); }

void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);  // a warning: corrupt or cut-short data
}

void on_output(j_common_ptr) {}

// The markers read for the fast path's decisions.
struct markers {
  int orientation = 1;
  bool icc = false;        // a profile
  bool icc_other = false;  // one not known to be sRGB
};

// Whether the ICC profile `icc` is sRGB by its description (the 'desc' tag,
// ASCII in version 2 profiles, UTF-16 in version 4), as the usual ones are
// named: "sRGB IEC61966-2.1", "sRGB built-in", "sRGB v4 ICC preference".
// An RGB profile only; every offset is checked against the profile's bytes.
bool is_srgb_profile(std::string_view icc) {
  const auto u32 = [&](std::size_t at) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(icc[at + i])); };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
  };
  if (icc.size() < 132 || icc.substr(16, 4) != "RGB ") return false;
  const std::size_t tags = u32(128);
  for (std::size_t i = 0; i < tags && 132 + 12 * (i + 1) <= icc.size(); ++i) {
    const std::size_t entry = 132 + 12 * i;
    if (icc.substr(entry, 4) != "desc") continue;
    const std::size_t offset = u32(entry + 4), size = u32(entry + 8);
    if (offset > icc.size() || size > icc.size() - offset) return false;
    const std::string_view desc = icc.substr(offset, size);
    return desc.find("sRGB") != std::string_view::npos ||
           desc.find(std::string_view("\0s\0R\0G\0B", 8)) != std::string_view::npos;
  }
  return false;
}

markers read_markers(j_decompress_ptr cinfo) {
  markers m;
  for (jpeg_saved_marker_ptr p = cinfo->marker_list; p != nullptr; p = p->next) {
    const std::string_view body(reinterpret_cast<const char*>(p->data), p->data_length);
    if (p->marker == JPEG_APP0 + 1 && m.orientation == 1) m.orientation = exif_orientation(body);
    if (p->marker == JPEG_APP0 + 2 && body.substr(0, 12) == std::string_view("ICC_PROFILE\0", 12)) {
      // An sRGB profile in one marker (sequence 1 of 1) changes nothing for
      // an sRGB thumbnail; any other goes to libvips, which converts it.
      const bool whole = body.size() > 14 && body[12] == 1 && body[13] == 1;
      m.icc = true;
      m.icc_other = m.icc_other || !whole || !is_srgb_profile(body.substr(14));
    }
  }
  return m;
}

// DCT-domain shrink: leave at least a factor of two for the resize.
unsigned dct_denominator(double shrink) {
  if (shrink >= 16) return 8;
  if (shrink >= 8) return 4;
  if (shrink >= 4) return 2;
  return 1;
}

// The libjpeg part, apart so that nothing with a destructor lives in the
// frame longjmp leaves. Returns false when the image goes to libvips.
bool decode(jpeg_decompress_struct& cinfo, error_manager& err, std::string_view data, std::uint32_t box_w,
            std::uint32_t box_h, std::uint64_t max_pixels, jpeg_header& out, raster& r) {
  if (setjmp(err.jump) != 0) return false;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(data.data()), static_cast<unsigned long>(data.size()));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);  // ICC profiles
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) return false;
  out.width = cinfo.image_width;
  out.height = cinfo.image_height;
  if (std::uint64_t{out.width} * out.height > max_pixels) return false;
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (!cmyk && cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_GRAYSCALE &&
      cinfo.jpeg_color_space != JCS_RGB)
    return false;
  const markers m = read_markers(&cinfo);
  if (m.icc && (cmyk || m.icc_other)) return false;  // a profile to apply: libvips does
  out.orientation = m.orientation;
  const bool swap = out.orientation >= 5;
  const size2 t = fit_in_box(swap ? out.height : out.width, swap ? out.width : out.height, box_w, box_h);
  const double shrink = std::min(static_cast<double>(swap ? out.height : out.width) / t.width,
                                 static_cast<double>(swap ? out.width : out.height) / t.height);
  cinfo.scale_num = 1;
  cinfo.scale_denom = dct_denominator(shrink);
  cinfo.out_color_space = cmyk ? JCS_CMYK : cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  r.width = cinfo.output_width;
  r.height = cinfo.output_height;
  r.channels = static_cast<std::uint32_t>(cinfo.output_components);
  r.data.resize(std::size_t{r.width} * r.height * r.channels);
  const std::size_t stride = std::size_t{r.width} * r.channels;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = r.data.data() + cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  // Adobe's CMYK JPEGs store 255 for no ink (libvips reads them so too).
  if (cmyk && cinfo.saw_Adobe_marker)
    for (auto& v : r.data) v = static_cast<std::uint8_t>(255 - v);
  return true;
}

}  // namespace

std::optional<jpeg_header> decode_jpeg(std::string_view data, std::uint32_t box_w, std::uint32_t box_h,
                                       std::uint64_t max_pixels, raster& pixels) {
  if (data.size() < 4 || data.substr(0, 3) != "\xFF\xD8\xFF") return std::nullopt;
  jpeg_decompress_struct cinfo;
  error_manager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  err.pub.output_message = on_output;
  jpeg_create_decompress(&cinfo);
  jpeg_header out;
  const bool ok = decode(cinfo, err, data, box_w, box_h, max_pixels, out, pixels);
  jpeg_destroy_decompress(&cinfo);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace scalekit::jobs::thumbnail::detail
