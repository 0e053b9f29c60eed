// The profiles icc_export wrote, embedded as read-only data. The paths come
// from CMake (SCALEKIT_CMYK_ICC, SCALEKIT_SRGB_ICC), which rebuilds this file
// when they change; icc_stamp.h (their sizes and checksums) makes the
// compiler caches see the change too.

#include "icc_profiles.h"

#include "icc_stamp.h"

#define SCALEKIT_EMBED(symbol, path)                                                             \
  __asm__(".pushsection .rodata\n.balign 16\n.hidden " #symbol "\n" #symbol ":\n.incbin \"" path \
          "\"\n"                                                                                 \
          ".hidden " #symbol "_end\n" #symbol "_end:\n.popsection\n")

SCALEKIT_EMBED(scalekit_cmyk_icc, SCALEKIT_CMYK_ICC);
SCALEKIT_EMBED(scalekit_srgb_icc, SCALEKIT_SRGB_ICC);

extern "C" {
__attribute__((visibility("hidden"))) extern const char scalekit_cmyk_icc[], scalekit_cmyk_icc_end[];
__attribute__((visibility("hidden"))) extern const char scalekit_srgb_icc[], scalekit_srgb_icc_end[];
}

namespace scalekit::jobs::thumbnail::detail {

// In the compiled text, so that other profile bytes are another compilation.
[[maybe_unused]] constexpr const char* embedded_profiles = SCALEKIT_ICC_STAMP;

std::string_view cmyk_profile() {
  return {scalekit_cmyk_icc, static_cast<std::size_t>(scalekit_cmyk_icc_end - scalekit_cmyk_icc)};
}

std::string_view srgb_profile() {
  return {scalekit_srgb_icc, static_cast<std::size_t>(scalekit_srgb_icc_end - scalekit_srgb_icc)};
}

}  // namespace scalekit::jobs::thumbnail::detail
