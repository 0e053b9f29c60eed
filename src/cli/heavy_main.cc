// scalekit-heavy: the commands of scalekit whose libraries are heavy to load
// (libvips, libcurl), kept out of the main executable so that only they pay
// for them at start. scalekit hands these commands over with exec; run
// directly, it behaves the same.

#include "command.h"

int main(int argc, char** argv) { return scalekit::cli::run_program(scalekit::cli::binary::heavy, argc, argv); }
