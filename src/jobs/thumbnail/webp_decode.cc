// libwebp's advanced decoding API: the simple WebPDecodeRGB() makes the whole
// image, and a 2400x1600 photo is 11 MB of pixels for a 64x64 thumbnail.
// With use_scaling, libwebp's rescaler averages each row into the smaller
// size as the decoder makes it. libvips' loader (vips_thumbnail's
// shrink-on-load) works the same way, through its own per-operation machinery.

#include "webp_decode.h"

#include "resize.h"

#include <webp/decode.h>

#include <algorithm>
#include <cstdint>

namespace scalekit::jobs::thumbnail::detail {

namespace {

std::uint32_t le32(std::string_view d, std::size_t at) {
  const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + i])); };
  return b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24;
}

}  // namespace

std::optional<size2> decode_webp(std::string_view data, std::uint32_t box_w, std::uint32_t box_h,
                                 std::uint64_t max_pixels, raster& out) {
  // RIFF, its size, WEBP, then the one image chunk of the simple format.
  if (data.size() < 20 || data.substr(0, 4) != "RIFF" || data.substr(8, 4) != "WEBP") return std::nullopt;
  if (const std::string_view chunk = data.substr(12, 4); chunk != "VP8 " && chunk != "VP8L") return std::nullopt;
  if (std::uint64_t{le32(data, 4)} + 8 > data.size()) return std::nullopt;  // cut short
  WebPDecoderConfig config;
  if (WebPInitDecoderConfig(&config) == 0) return std::nullopt;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  if (WebPGetFeatures(bytes, data.size(), &config.input) != VP8_STATUS_OK) return std::nullopt;
  const WebPBitstreamFeatures& f = config.input;
  if (f.has_alpha != 0 || f.has_animation != 0 || f.width <= 0 || f.height <= 0) return std::nullopt;
  const auto width = static_cast<std::uint32_t>(f.width), height = static_cast<std::uint32_t>(f.height);
  if (std::uint64_t{width} * height > max_pixels) return std::nullopt;

  // The box average resize() would make first (a whole factor per axis that
  // leaves at least two), made here by libwebp's rescaler instead: with a
  // whole factor it averages the same blocks.
  const size2 thumb = fit_in_box(width, height, box_w, box_h);
  const std::uint32_t kx = box_factor(width, thumb.width), ky = box_factor(height, thumb.height);
  out.width = width / kx;
  out.height = height / ky;
  out.channels = 3;
  out.data.resize(std::size_t{out.width} * out.height * 3);
  config.options.use_threads = 0;
  if (kx > 1 || ky > 1) {
    config.options.use_scaling = 1;
    config.options.scaled_width = static_cast<int>(out.width);
    config.options.scaled_height = static_cast<int>(out.height);
  }
  config.output.colorspace = MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out.data.data();
  config.output.u.RGBA.stride = static_cast<int>(out.width * 3);
  config.output.u.RGBA.size = out.data.size();
  const VP8StatusCode rc = WebPDecode(bytes, data.size(), &config);
  WebPFreeDecBuffer(&config.output);  // external memory: frees nothing of ours
  if (rc != VP8_STATUS_OK) return std::nullopt;
  return size2{width, height};
}

}  // namespace scalekit::jobs::thumbnail::detail
