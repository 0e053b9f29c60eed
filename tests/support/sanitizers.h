#pragma once
// Whether this test (and so the binaries under it, built by the same preset)
// runs under a sanitizer. ASan and TSan reserve terabytes of address space for
// their shadow memory at start, so an address-space limit (ulimit -v,
// RLIMIT_AS) kills a sanitized program before main(): limits of that kind are
// only for the plain build, and the sanitizers' own checks stand in for them.

#include <iostream>
#include <string>
#include <string_view>

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

/// Under a sanitizer, copy `child_stderr` (what a process this test started
/// wrote, captured in a file) to this process's stderr when it holds a
/// sanitizer report. A sanitized process ends at its first report, but a
/// child's end goes unnoticed when the test reads its stderr only on failure,
/// or when a master replaces the worker and a pool runs the call again;
/// CTest fails a test whose output holds a report (FAIL_REGULAR_EXPRESSION in
/// tests/CMakeLists.txt, which looks for these same lines).
inline void pass_on_sanitizer_reports(std::string_view child_stderr, std::string_view child) {
  if (!sanitized) return;
  for (const std::string_view mark :
       {": runtime error: ", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer"}) {
    if (child_stderr.find(mark) != std::string_view::npos) {
      std::cerr << "--- the stderr of " << child << ", with a sanitizer report:\n" << child_stderr << "\n---\n";
      return;
    }
  }
}

/// "ulimit -v KIB; " for a shell command line, or "" under a sanitizer.
inline std::string address_space_limit(unsigned long kib) {
  return sanitized ? std::string() : "ulimit -v " + std::to_string(kib) + "; ";
}

}  // namespace scalekit::testing
