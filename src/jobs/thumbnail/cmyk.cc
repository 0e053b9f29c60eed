// One lcms2 transform for the process: building it (parsing libvips' 1 MB
// CMYK profile, optimizing the pipeline) costs far more than converting a
// thumbnail. vips_thumbnail builds it per image: an untagged CMYK JPEG cost
// 27 ms there, half of it in lcms2.

#include "cmyk.h"

#include <lcms2.h>

#include <vips/vips.h>

#include "imaging/vips_support.h"

namespace scalekit::jobs::thumbnail::detail {

namespace {

cmsHPROFILE open_vips_profile(const char* name) {
  VipsBlob* blob = nullptr;
  if (vips_profile_load(name, &blob, nullptr) != 0 || blob == nullptr) {
    imaging::take_vips_error();
    return nullptr;
  }
  std::size_t size = 0;
  const void* data = vips_blob_get(blob, &size);
  cmsHPROFILE p = cmsOpenProfileFromMem(data, static_cast<cmsUInt32Number>(size));
  vips_area_unref(VIPS_AREA(blob));
  return p;
}

cmsHTRANSFORM make_transform() {
  imaging::ensure_vips();
  cmsHPROFILE cmyk = open_vips_profile("cmyk"), srgb = open_vips_profile("srgb");
  cmsHTRANSFORM t = nullptr;
  if (cmyk != nullptr && srgb != nullptr)  // NOCACHE: shared by threads
    t = cmsCreateTransform(cmyk, TYPE_CMYK_8, srgb, TYPE_RGB_8, INTENT_RELATIVE_COLORIMETRIC, cmsFLAGS_NOCACHE);
  if (cmyk != nullptr) cmsCloseProfile(cmyk);
  if (srgb != nullptr) cmsCloseProfile(srgb);
  return t;
}

}  // namespace

bool cmyk_to_srgb(const raster& in, raster& out) {
  static const cmsHTRANSFORM transform = make_transform();  // kept for the process
  if (transform == nullptr || in.channels != 4) return false;
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
