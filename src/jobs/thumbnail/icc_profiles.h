#pragma once
// Internal: libvips' fallback CMYK and sRGB ICC profiles, the bytes
// vips_profile_load("cmyk") and ("srgb") return, carried in this program:
// icc_export wrote them from the build machine's libvips at build time and
// icc_profiles.cc embeds them (.incbin). So a thumbnail process converts an
// untagged CMYK image exactly as libvips does without starting libvips.

#include <string_view>

namespace scalekit::jobs::thumbnail::detail {

/// The CMYK profile ("Chemical proof", Graeme W. Gill, public domain). Static
/// storage: valid for the whole process.
std::string_view cmyk_profile();
/// libvips' sRGB profile. Static storage.
std::string_view srgb_profile();

}  // namespace scalekit::jobs::thumbnail::detail
