// Stack traces in UBSan's reports (it prints none by default), for the test
// process and the processes it starts: linked into every test binary of the
// asan preset (tests/CMakeLists.txt). The environment CTest gives a test here
// carries one variable only (ASAN_OPTIONS), hence the hook and the setenv.

#include <cstdlib>

extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1"; }

namespace {
// Before main, so before any child; a UBSAN_OPTIONS already set is kept.
[[maybe_unused]] const bool children_too = ::setenv("UBSAN_OPTIONS", "print_stacktrace=1", 0) == 0;
}  // namespace
