#pragma once
// A scratch directory for the runs' inputs, outputs and logs, made in $TMPDIR
// (or /tmp) and removed with its contents when the object goes. path() is
// empty when it could not be made.

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace scalekit::scale {

class scratch_dir {
 public:
  /// `prefix` names the directory (prefix-XXXXXX), so that a user who finds
  /// one left by a killed run knows what made it.
  explicit scratch_dir(const char* prefix = "scalekit-scale") {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace scalekit::scale
