// Linked into every test binary of the tsan preset (tests/CMakeLists.txt).
//
// The processes a test starts (serve's master and its workers, a process
// pool's workers) are TSan processes of their own. A report in one of them
// goes to its stderr, which the test keeps in a log file or throws away, and
// ends that process with TSan's exit code (66), which its parent may take for
// an ordinary failure: serve's master replaces the worker and the test passes.
// So this environment gives the children a report file of their own:
// TSAN_OPTIONS' log_path, set here after this process started (its own
// reports still go to its stderr), reaches every process it starts through
// the environment, and TSan writes each child's reports to log_path.PID.
// At the end of the test program a report in any such file fails it, and is
// printed.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace {

class tsan_children : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* options = std::getenv("TSAN_OPTIONS");
    // Started by a test program that collects already (a death test's child): its reports go there.
    if (options != nullptr && std::string(options).find("log_path=") != std::string::npos) return;
    std::string pattern = (std::filesystem::temp_directory_path() / "scalekit-tsan-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "cannot make a directory for the child processes' TSan reports";
      return;
    }
    dir_ = pattern;
    std::string value = options != nullptr ? std::string(options) + " " : std::string();
    value += "log_path=" + (dir_ / "report").string();
    ::setenv("TSAN_OPTIONS", value.c_str(), 1);
  }

  void TearDown() override {
    if (dir_.empty()) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      std::ifstream in(entry.path());
      std::stringstream report;
      report << in.rdbuf();
      // Races, lock inversions, signal misuse. Not TSan's "ERROR: ... SEGV" of
      // a child that crashes on purpose (the process pool's crash tests): its
      // parent sees that crash, and the test decides.
      if (report.str().find("WARNING: ThreadSanitizer:") == std::string::npos) continue;
      ADD_FAILURE() << "a child process reported under TSan (" << entry.path().filename().string()
                    << ", the suffix is its pid):\n"
                    << report.str();
    }
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::filesystem::path dir_;
};

[[maybe_unused]] ::testing::Environment* const registered = ::testing::AddGlobalTestEnvironment(new tsan_children);

}  // namespace
