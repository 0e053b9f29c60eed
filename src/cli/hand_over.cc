// The hand-over: a command built into scalekit-heavy or scalekit-serve runs
// there, in place of this process, with the same arguments.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "command.h"
#include "program_detail.h"
#include "runner.h"

namespace scalekit::cli {

int command_argument(int argc, char** argv) {
  int i = 1;
  while (i < argc && argv[i][0] == '-') ++i;  // the global flags take no values
  return i;
}

std::optional<int> hand_over_command(int argc, char** argv) {
  const int i = command_argument(argc, argv);
  if (i == argc) return std::nullopt;
  const command_info* c = find_command(argv[i]);
  if (c == nullptr || c->where == binary::light) return std::nullopt;
  const char* name = binary_name(c->where);
  std::error_code ec;
  const auto self_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  // Beside scalekit in a build tree; in libexec/scalekit once installed.
  const std::string beside = (self_dir / name).string();
  const std::string installed = (self_dir / SCALEKIT_HEAVY_FROM_BIN / name).lexically_normal().string();
  const std::string& target = ::access(beside.c_str(), X_OK) == 0 ? beside : installed;
  argv[0] = const_cast<char*>(target.c_str());
  ::execv(target.c_str(), argv);
  std::fprintf(stderr,
               "scalekit %s: cannot run '%s' (nor '%s'): %s (%s is built beside scalekit and installed "
               "in libexec/scalekit)\n",
               argv[i], beside.c_str(), installed.c_str(), std::strerror(errno), name);
  return exit_failed;
}

}  // namespace scalekit::cli
