#pragma once
// atomic_file: an output written whole or not at all. Bytes go to a hidden
// temporary file beside the target (".<name>.tmp-XXXXXX", same filesystem, so
// the rename is atomic); commit() gives it the usual permissions and renames
// it over the target. Destroyed without commit(), or after a failed one, the
// temporary is removed: an error never leaves a partial file in place of a
// good one. Move-only; one thread writes.

#include <cstdio>
#include <string>

#include "scalekit/core/status.h"

namespace scalekit::core {

class atomic_file {
 public:
  /// Creates the temporary. The error reads "cannot write '<path>': <reason>".
  static result<atomic_file> create(const std::string& path);

  atomic_file(atomic_file&& other) noexcept;
  atomic_file& operator=(atomic_file&&) = delete;
  atomic_file(const atomic_file&) = delete;
  ~atomic_file();

  /// The open temporary, for writing (fwrite, or a library that takes a FILE*).
  [[nodiscard]] std::FILE* stream() const noexcept { return file_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The temporary's name (for removal from a signal handler).
  [[nodiscard]] const std::string& temp_path() const noexcept { return temp_; }

  /// Write `n` bytes; io_error naming the target on failure.
  status write(const void* data, std::size_t n);
  /// Flush, close and rename into place. After it the object holds nothing.
  status commit();
  /// The io_error for this file: "cannot write '<path>': <what>".
  [[nodiscard]] status error(const std::string& what) const;

 private:
  atomic_file(std::string path, std::string temp, std::FILE* file) noexcept
      : path_(std::move(path)), temp_(std::move(temp)), file_(file) {}
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

/// Remove every temporary of an atomic_file still alive in this process. For a
/// process about to die of a signal (die_of_signal), which runs no destructors.
/// Final: later create() calls fail (cancelled), so that another thread still
/// running cannot leave a temporary behind.
void remove_temporary_files() noexcept;

}  // namespace scalekit::core
