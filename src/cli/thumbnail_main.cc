// scalekit-thumbnail: `scalekit thumbnail` of files and directories, and the
// process pool's workers of every thumbnail job. It links the fast path's
// libraries only, and loads libvips as a plugin when an image needs it, so
// that neither the command nor each worker pays libvips' start (about 15 ms
// of CPU). scalekit hands `thumbnail` over to it; it hands URLs over to
// scalekit-heavy.

#include "command.h"

int main(int argc, char** argv) { return scalekit::cli::run_program(scalekit::cli::binary::thumbnail, argc, argv); }
