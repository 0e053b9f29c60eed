#pragma once
// Internal: CMYK thumbnails to sRGB, as the libvips path converts an
// untagged CMYK image (libvips' fallback CMYK profile, relative intent).

#include "raster.h"

namespace scalekit::jobs::thumbnail::detail {

/// `in` (4 channels, CMYK with 0 = no ink) converted to sRGB into `out`
/// (3 channels). The transform is made once per process (libvips' "cmyk" and
/// "srgb" profiles, carried in the program: icc_profiles.h, through lcms2) and
/// shared: thread-safe. False when it
/// cannot be made; `out` then unchanged.
bool cmyk_to_srgb(const raster& in, raster& out);

}  // namespace scalekit::jobs::thumbnail::detail
