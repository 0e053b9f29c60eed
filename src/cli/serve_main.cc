// scalekit-serve: the HTTP server of scalekit, apart because it will embed
// CPython for WSGI applications, which no other command should load. scalekit
// hands `serve` over with exec; the master starts its workers from this
// executable too.

#include "command.h"

int main(int argc, char** argv) { return scalekit::cli::run_program(scalekit::cli::binary::serve, argc, argv); }
