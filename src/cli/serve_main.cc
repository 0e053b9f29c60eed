// scalekit-serve: the HTTP server of scalekit, apart because it embeds
// CPython for WSGI applications, which no other command should load. scalekit
// hands `serve` over with exec; the master starts its workers, and --preload
// its check of the apps, from this executable too.

#include "command.h"

// LeakSanitizer (the asan preset): the embedded interpreter is never finalised
// (docs/DESIGN.md), so what it and its extension modules keep lives until the
// process exits, and objects referenced only from pymalloc's arenas, which
// LSan does not scan, look unreachable. A process that imported the apps and
// exits (--preload's check, a worker told to leave) would otherwise end with
// LSan's status instead of its own. Unused outside sanitizer builds.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpython3.11.so\n"
         "leak:cpython-311-x86_64-linux-gnu.so\n"
         "leak:libcrypto.so\n";
}

int main(int argc, char** argv) { return scalekit::cli::run_program(scalekit::cli::binary::serve, argc, argv); }
