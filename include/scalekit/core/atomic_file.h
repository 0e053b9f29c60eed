#pragma once
// atomic_file: an output written whole or not at all. Bytes go to a hidden
// temporary file beside the target (".<name>.tmp-XXXXXX", same filesystem, so
// the rename is atomic); commit() gives it the usual permissions and renames
// it over the target. Destroyed without commit(), or after a failed one, the
// temporary is removed: an error never leaves a partial file in place of a
// good one. Move-only; one thread writes.
//
// mode::in_place is the cheap variant for files a job makes afresh, with no
// earlier version worth keeping (numbers gen's thousands of small files): the
// bytes go straight to the target, which is removed if the file is never
// committed (an error, a stop, or a signal that ends the process). Whole or
// absent too, without the rename that costs most of a small file's time; but a
// failure removes the target instead of leaving the old one. Only a regular
// file (or nothing) is written in place: a symbolic link, a FIFO or a device
// at the target's name is never opened through, it is replaced as
// mode::replace replaces it.

#include <cstdio>
#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::core {

class atomic_file {
 public:
  enum class mode {
    replace,   ///< a temporary beside the target, renamed over it by commit()
    in_place,  ///< the target itself, removed unless committed
  };

  /// Creates the temporary (or, in place, the target). The error reads
  /// "cannot write '<path>': <reason>".
  static result<atomic_file> create(const std::string& path, mode m = mode::replace);
  /// `text` as the whole of `path`: create, write, commit (whole or absent).
  static status write_whole(const std::string& path, std::string_view text);

  atomic_file(atomic_file&& other) noexcept;
  atomic_file& operator=(atomic_file&&) = delete;
  atomic_file(const atomic_file&) = delete;
  ~atomic_file();

  /// The open temporary as a stream, for a library that takes a FILE* (made
  /// on the first call; nullptr if that fails). Once it exists, write() goes
  /// through it too; before, write() is a plain write(2), which is what keeps
  /// small files cheap.
  [[nodiscard]] std::FILE* stream() noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The file being written: the temporary's name, or the target in place.
  [[nodiscard]] const std::string& temp_path() const noexcept { return temp_; }

  /// Write `n` bytes; io_error naming the target on failure.
  status write(const void* data, std::size_t n);
  /// Flush, close and rename into place (in place: flush and close). After it
  /// the object holds nothing.
  status commit();
  /// The io_error for this file: "cannot write '<path>': <what>".
  [[nodiscard]] status error(const std::string& what) const;

 private:
  atomic_file(std::string path, std::string temp, int fd, mode m) noexcept
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd), mode_(m) {}
  std::string path_, temp_;
  int fd_ = -1;                // the open file, while not committed
  std::FILE* file_ = nullptr;  // a stream on fd_, once stream() made one
  mode mode_ = mode::replace;
  bool committed_ = false;
};

/// Remove every temporary of an atomic_file still alive in this process. For a
/// process about to die of a signal (die_of_signal), which runs no destructors.
/// Final: later create() calls fail (cancelled), so that another thread still
/// running cannot leave a temporary behind.
void remove_temporary_files() noexcept;

}  // namespace scalekit::core
