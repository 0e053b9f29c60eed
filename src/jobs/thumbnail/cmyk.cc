// The lcms2 transforms, made once per process: building one costs far more
// than converting a thumbnail. vips_thumbnail builds it per image: an
// untagged CMYK JPEG cost 27 ms there, half of it in lcms2. Optimized (the
// pipeline sampled into one table), the transform takes 19 ms to make and
// 0.14 ms per 64x64 thumbnail; unoptimized (each pixel through the profile's
// own stages) 2.5 ms and 0.7 ms: a directory with a few CMYK images among
// others (a process pool's worker sees a handful) is better served by the
// second. So the first conversions use it, and once they have cost about what
// the optimized one takes to make (2^17 pixels, 32 such thumbnails) it is
// made and used from then on. The two differ by at most one level of 255.

#include "cmyk.h"

#include <lcms2.h>

#include <atomic>
#include <cstdint>

#include "icc_profiles.h"

namespace scalekit::jobs::thumbnail::detail {

namespace {

// libvips' own profiles, carried in the program (icc_profiles.h): libvips is
// not started for them.
cmsHPROFILE open_profile(std::string_view bytes) {
  return cmsOpenProfileFromMem(bytes.data(), static_cast<cmsUInt32Number>(bytes.size()));
}

constexpr std::uint64_t optimize_after_pixels = std::uint64_t{1} << 17;

cmsHTRANSFORM make_transform(cmsUInt32Number flags) {
  cmsHPROFILE cmyk = open_profile(cmyk_profile()), srgb = open_profile(srgb_profile());
  cmsHTRANSFORM t = nullptr;
  if (cmyk != nullptr && srgb != nullptr)  // NOCACHE: shared by threads
    t = cmsCreateTransform(cmyk, TYPE_CMYK_8, srgb, TYPE_RGB_8, INTENT_RELATIVE_COLORIMETRIC, cmsFLAGS_NOCACHE | flags);
  if (cmyk != nullptr) cmsCloseProfile(cmyk);
  if (srgb != nullptr) cmsCloseProfile(srgb);
  return t;
}

// The transform for `pixels` more: the unoptimized one until the pixels
// converted pass optimize_after_pixels, then the optimized one. Both kept for
// the process.
cmsHTRANSFORM transform_for(std::uint64_t pixels) {
  static std::atomic<std::uint64_t> converted{0};
  if (converted.fetch_add(pixels, std::memory_order_relaxed) < optimize_after_pixels) {
    static const cmsHTRANSFORM plain = make_transform(cmsFLAGS_NOOPTIMIZE);
    return plain;
  }
  static const cmsHTRANSFORM optimized = make_transform(0);
  return optimized;
}

}  // namespace

bool cmyk_to_srgb(const raster& in, raster& out) {
  if (in.channels != 4) return false;
  const cmsHTRANSFORM transform = transform_for(std::uint64_t{in.width} * in.height);
  if (transform == nullptr) return false;
  raster rgb;
  rgb.width = in.width;
  rgb.height = in.height;
  rgb.channels = 3;
  rgb.data.resize(std::size_t{in.width} * in.height * 3);
  cmsDoTransform(transform, in.data.data(), rgb.data.data(), static_cast<cmsUInt32Number>(in.width * in.height));
  out = std::move(rgb);
  return true;
}

}  // namespace scalekit::jobs::thumbnail::detail
