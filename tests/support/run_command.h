#pragma once
// Run a command through /bin/sh for integration tests: exit status, stdout and
// stderr, captured through temporary files.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sanitizers.h"

namespace scalekit::testing {

struct command_result {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline command_result run_command(const std::string& cmd) {
  static std::atomic<int> counter{0};  // tests run commands from several threads at once
  const auto base = std::filesystem::temp_directory_path() /
                    ("scalekit-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const int st = std::system((cmd + " >" + out + " 2>" + err + " </dev/null").c_str());
  command_result r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = slurp(out);
  r.err = slurp(err);
  pass_on_sanitizer_reports(r.err, cmd);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

/// A fresh directory removed at scope exit.
struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& tag) {
    static int counter = 0;  // two directories with the same tag in one test must not collide
    path = std::filesystem::temp_directory_path() /
           ("scalekit-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

}  // namespace scalekit::testing
