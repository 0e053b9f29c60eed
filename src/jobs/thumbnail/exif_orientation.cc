// The one EXIF tag thumbnails need, read by hand: IFD0's entry 0x0112
// (Orientation, a SHORT). docs/DESIGN.md says why not libexif.

#include "exif_orientation.h"

#include <cstdint>

namespace scalekit::jobs::thumbnail::detail {

int exif_orientation(std::string_view app1) {
  if (app1.size() < 6 + 8 || app1.substr(0, 6) != std::string_view("Exif\0\0", 6)) return 1;
  const std::string_view tiff = app1.substr(6);
  const bool little = tiff.substr(0, 2) == "II";
  if (!little && tiff.substr(0, 2) != "MM") return 1;
  const auto byte = [&](std::size_t at) { return static_cast<std::uint32_t>(static_cast<unsigned char>(tiff[at])); };
  const auto u16 = [&](std::size_t at) { return little ? byte(at) | byte(at + 1) << 8 : byte(at) << 8 | byte(at + 1); };
  const auto u32 = [&](std::size_t at) { return little ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2); };
  if (u16(2) != 42) return 1;
  const std::size_t ifd = u32(4);
  if (ifd > tiff.size() || tiff.size() - ifd < 2) return 1;
  const std::size_t entries = u16(ifd);
  for (std::size_t i = 0; i < entries; ++i) {
    const std::size_t at = ifd + 2 + 12 * i;
    if (at + 12 > tiff.size()) break;
    if (u16(at) != 0x0112) continue;
    if (u16(at + 2) != 3) return 1;  // not a SHORT
    const std::uint32_t v = u16(at + 8);
    return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
  }
  return 1;
}

}  // namespace scalekit::jobs::thumbnail::detail
