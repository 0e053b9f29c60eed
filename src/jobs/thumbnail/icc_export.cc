// Build tool: writes libvips' fallback CMYK and sRGB profiles (compiled into
// libvips, not on disk) to the files named on the command line, so that
// icc_profiles.cc can carry them and a thumbnail process converts CMYK
// without starting libvips (vips_init alone is 25 ms: it loads the heif, jxl,
// magick, openslide and poppler modules). STAMP_HEADER gets their sizes and
// checksums as a string icc_profiles.cc compiles, so that new profile bytes
// change its preprocessed text and no compiler cache hands back an object
// with the old ones (the assembler, not the preprocessor, reads what .incbin
// names).
//
//   icc_export CMYK_FILE SRGB_FILE STAMP_HEADER

#include <vips/vips.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {

std::string stamp;  // "cmyk 961644 d6e0e0a98321c327 srgb ..."

// FNV-1a, 64 bits: enough to tell two profiles apart.
std::uint64_t checksum(const void* data, std::size_t size) {
  std::uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
  return h;
}

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
  char line[96];
  std::snprintf(line, sizeof line, "%s%s %zu %016llx", stamp.empty() ? "" : " ", name, size,
                static_cast<unsigned long long>(checksum(data, size)));
  stamp += line;
  vips_area_unref(VIPS_AREA(blob));
  if (!ok) std::fprintf(stderr, "icc_export: cannot write '%s'\n", path);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: icc_export CMYK_FILE SRGB_FILE STAMP_HEADER\n");
    return 2;
  }
  if (VIPS_INIT(argv[0]) != 0) {
    std::fprintf(stderr, "icc_export: libvips failed to start: %s", vips_error_buffer());
    return 1;
  }
  if (!export_profile("cmyk", argv[1]) || !export_profile("srgb", argv[2])) return 1;
  std::FILE* h = std::fopen(argv[3], "w");
  const bool ok = h != nullptr &&
                  std::fprintf(h,
                               "// Written by icc_export: the profiles icc_profiles.cc embeds (name, size, FNV-1a).\n"
                               "#define SCALEKIT_ICC_STAMP \"%s\"\n",
                               stamp.c_str()) > 0;
  if (h == nullptr || std::fclose(h) != 0 || !ok) {
    std::fprintf(stderr, "icc_export: cannot write '%s'\n", argv[3]);
    return 1;
  }
  return 0;
}
