#pragma once
// Inputs and outputs a user names, checked before a byte is read or written:
// the one place that says what "a regular file" and "the same file" mean.
//
// - An input must be a regular file (symbolic links followed). A FIFO, a
//   device (/dev/zero), a directory or a socket is refused before it is read:
//   reading one can block forever or never end. open_input() opens without
//   blocking (O_NONBLOCK, a FIFO with no writer cannot stall it) and checks
//   the descriptor it got, so a file swapped in between cannot slip through.
// - An output must not be one of the inputs: not the same path, not a
//   symbolic link to it, not a hard link to it (the same device and inode).
//   An output that exists must be a regular file: rename(2) over /dev/null or
//   a FIFO would replace it.
//
// Errors are one line that names the path and the problem in words a person
// can act on ("not a regular file (a FIFO)", "a symbolic link loop",
// "permission denied"), never a bare errno name.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "scalekit/core/status.h"

namespace scalekit::core {

/// A file's identity: its device and inode.
struct file_id {
  dev_t dev = 0;
  ino_t ino = 0;
  friend bool operator==(const file_id&, const file_id&) = default;
};

/// The identity of the file `path` names (symbolic links followed), or
/// nullopt when it does not exist or cannot be examined.
std::optional<file_id> identify(const std::string& path);

/// The words for an errno met on a path: "no such file or directory", "a
/// symbolic link loop (too many levels of symbolic links)", "permission
/// denied", ... (lower case, for "cannot read '<path>': <words>").
std::string path_error_words(int err);

/// OK when `path` names a regular file (symbolic links followed) that this
/// process may read (it is opened, and closed again).
/// Otherwise: not_found "cannot read '<path>': no such file or directory",
/// io_error "cannot read '<path>': not a regular file (a FIFO)" (or a
/// directory, a character device, ...), or the reason stat(2) gave.
/// For inputs handed by name to a library (libvips, FreeImage); our own
/// readers use open_input(), which also checks what it opened.
status check_input(const std::string& path);

/// An input opened for reading, checked to be a regular file. Move-only; the
/// descriptor is closed when it goes. One thread reads.
class input_file {
 public:
  input_file(input_file&& o) noexcept;
  input_file& operator=(input_file&& o) noexcept;
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;
  ~input_file();

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] file_id id() const noexcept { return id_; }
  /// The size when it was opened.
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

  /// Read the rest of the file into `out` (replacing its contents), at most
  /// `max_bytes`: too_large "'<path>' is larger than <N> bytes ..." past it,
  /// io_error "cannot read '<path>': <reason>" on a read error.
  status read_all(std::string& out, std::uint64_t max_bytes);

 private:
  friend result<input_file> open_input(const std::string& path);
  input_file(int fd, std::string path, file_id id, std::uint64_t size) noexcept
      : fd_(fd), path_(std::move(path)), id_(id), size_(size) {}
  int fd_ = -1;
  std::string path_;
  file_id id_;
  std::uint64_t size_ = 0;
};

/// Open `path` for reading when it is a regular file (errors as check_input;
/// the descriptor is close-on-exec and blocking once checked).
result<input_file> open_input(const std::string& path);

/// OK when `output` may be written: it does not exist, or it is a regular
/// file that is none of `inputs` (compared by identity, so a symbolic or hard
/// link to an input is caught too). Otherwise invalid_argument (bad usage):
/// "'<output>' is the input '<input>' (the same file): writing it would
/// destroy the input; choose another output", or "'<output>' exists and is
/// not a regular file (a directory)". Inputs that do not exist are ignored.
status check_output(const std::string& output, std::span<const std::string> inputs = {});

/// OK when `dir` may be written in: it is a directory, or it does not exist
/// and the nearest part of its path that exists is a directory (so that it
/// can be made). Otherwise invalid_argument (bad usage): "'<path>' exists and
/// is not a directory (a regular file); choose a directory to write in", or
/// when the user may not write there (access(2): permission, a read-only
/// file system) "cannot make '<dir>': '<parent>' cannot be written in
/// (permission denied)". For jobs that write into a directory, before they
/// do any work.
status check_output_dir(const std::string& dir);

/// Make `dir` and the directories above it that are missing; io_error
/// "cannot make '<dir>': <reason>" otherwise. For the directory of a report,
/// made once the work is done (check_output_dir said before that it could be).
status make_output_dir(const std::string& dir);

}  // namespace scalekit::core
