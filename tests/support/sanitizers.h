#pragma once
// Whether this test (and so the binaries under it, built by the same preset)
// runs under a sanitizer. ASan and TSan reserve terabytes of address space for
// their shadow memory at start, so an address-space limit (ulimit -v,
// RLIMIT_AS) kills a sanitized program before main(): limits of that kind are
// only for the plain build, and the sanitizers' own checks stand in for them.

#include <string>

namespace scalekit::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

/// How much slower a sanitized build runs, for the generous time bounds of
/// stress tests (TSan: 5-15x).
inline constexpr int sanitizer_slowdown = sanitized ? 5 : 1;

/// "ulimit -v KIB; " for a shell command line, or "" under a sanitizer.
inline std::string address_space_limit(unsigned long kib) {
  return sanitized ? std::string() : "ulimit -v " + std::to_string(kib) + "; ";
}

}  // namespace scalekit::testing
