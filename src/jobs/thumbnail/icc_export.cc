// Build tool: writes libvips' fallback CMYK and sRGB profiles (compiled into
// libvips, not on disk) to the files named on the command line, so that
// icc_profiles.cc can carry them and a thumbnail process converts CMYK
// without starting libvips (vips_init alone is 25 ms: it loads the heif, jxl,
// magick, openslide and poppler modules).
//
//   icc_export CMYK_FILE SRGB_FILE

#include <vips/vips.h>

#include <cstdio>

namespace {

bool export_profile(const char* name, const char* path) {
  VipsBlob* blob = nullptr;
  if (vips_profile_load(name, &blob, nullptr) != 0 || blob == nullptr) {
    std::fprintf(stderr, "icc_export: libvips has no '%s' profile: %s", name, vips_error_buffer());
    return false;
  }
  std::size_t size = 0;
  const void* data = vips_blob_get(blob, &size);
  std::FILE* f = std::fopen(path, "wb");
  const bool ok = f != nullptr && std::fwrite(data, 1, size, f) == size;
  if (f != nullptr && std::fclose(f) != 0) return false;
  vips_area_unref(VIPS_AREA(blob));
  if (!ok) std::fprintf(stderr, "icc_export: cannot write '%s'\n", path);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: icc_export CMYK_FILE SRGB_FILE\n");
    return 2;
  }
  if (VIPS_INIT(argv[0]) != 0) {
    std::fprintf(stderr, "icc_export: libvips failed to start: %s", vips_error_buffer());
    return 1;
  }
  return export_profile("cmyk", argv[1]) && export_profile("srgb", argv[2]) ? 0 : 1;
}
