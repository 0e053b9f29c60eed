#pragma once
// Internal: the EXIF orientation tag of a JPEG's APP1 segment.

#include <string_view>

namespace scalekit::jobs::thumbnail::detail {

/// The orientation (1..8, 1 = upright) that the APP1 payload `app1`
/// ("Exif\0\0" and a TIFF structure) states in IFD0; 1 when it states none,
/// or when the payload is not EXIF or is cut short. Reads only inside `app1`.
int exif_orientation(std::string_view app1);

}  // namespace scalekit::jobs::thumbnail::detail
