// The hand-over: a command built into scalekit-heavy or scalekit-serve runs
// there, in place of this process, with the same arguments; before the
// command line is parsed (by the table), or from a command that met an input
// only scalekit-heavy reads (hand_over_to).

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "command.h"
#include "program_detail.h"
#include "runner.h"
#include "scalekit/core/signals.h"
#include "scalekit/serve/serve.h"

namespace scalekit::cli {

namespace {

sigset_t mask_at_start;  // before stop_signals blocked its signals

// Where `where` would be: beside this program in a build tree (or beside
// scalekit-heavy in libexec/scalekit), or installed in libexec/scalekit.
struct places {
  std::string beside, installed;
};
places places_of(binary where) {
  const char* name = binary_name(where);
  std::error_code ec;
  const auto self_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  return {(self_dir / name).string(), (self_dir / SCALEKIT_HEAVY_FROM_BIN / name).lexically_normal().string()};
}

// execv `where` with argv (argv[0] replaced: the binary's path, or for serve's
// master what `ps` should show); on failure, says so for `command`.
int exec_binary(binary where, char** argv, const char* command) {
  const auto [beside, installed] = places_of(where);
  const std::string& target = ::access(beside.c_str(), X_OK) == 0 ? beside : installed;
  argv[0] = const_cast<char*>(where == binary::serve ? serve::master_process_title : target.c_str());
  ::execv(target.c_str(), argv);
  std::fprintf(stderr,
               "scalekit %s: cannot run '%s' (nor '%s'): %s (%s is built beside scalekit and installed "
               "in libexec/scalekit)\n",
               command, beside.c_str(), installed.c_str(), std::strerror(errno), binary_name(where));
  return exit_failed;
}

}  // namespace

std::string executable_path(binary where) {
  const auto [beside, installed] = places_of(where);
  if (::access(beside.c_str(), X_OK) == 0) return beside;
  return ::access(installed.c_str(), X_OK) == 0 ? installed : std::string{};
}

int command_argument(int argc, char** argv) {
  int i = 1;
  while (i < argc && argv[i][0] == '-') ++i;  // the global flags take no values
  return i;
}

void remember_signal_mask() { ::pthread_sigmask(SIG_BLOCK, nullptr, &mask_at_start); }

std::optional<int> hand_over_command(int argc, char** argv) {
  const int i = command_argument(argc, argv);
  if (i == argc) return std::nullopt;
  const command_info* c = find_command(argv[i]);
  if (c == nullptr || c->where == binary::light) return std::nullopt;
  return exec_binary(c->where, argv, argv[i]);
}

int hand_over_to(binary where) {
  auto& signals = core::stop_signals::install();
  // A stop that came before this point is this program's to honour; one
  // that comes after unblocking is the new program's (or kills this one
  // with the signal's default action, which is what a stop before any work
  // means).
  if (signals.token().stop_requested()) {
    globals().stopped_by_signal = true;
    return exit_failed;
  }
  ::pthread_sigmask(SIG_SETMASK, &mask_at_start, nullptr);
  if (signals.token().stop_requested()) {  // arrived while the mask changed
    globals().stopped_by_signal = true;
    return exit_failed;
  }
  std::vector<char*> argv;
  for (const auto& a : program_arguments()) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int i = command_argument(static_cast<int>(argv.size() - 1), argv.data());
  return exec_binary(where, argv.data(), argv[static_cast<std::size_t>(i)]);
}

}  // namespace scalekit::cli
