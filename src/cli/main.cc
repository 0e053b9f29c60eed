// scalekit: one command, a subcommand per job (src/cli/command.h lists them).
// The jobs with heavy libraries are handed over to scalekit-heavy.

#include "command.h"

int main(int argc, char** argv) { return scalekit::cli::run_program(scalekit::cli::binary::light, argc, argv); }
