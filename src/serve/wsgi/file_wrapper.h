#pragma once
// wsgi.file_wrapper: FileWrapper(filelike, blksize=8192), an iterable of the
// file's blocks that the host recognises and sends with sendfile() when it
// wraps a regular file opened in binary mode.

#include <cstdint>
#include <optional>

#include "py.h"

namespace scalekit::serve::wsgi::file_wrapper {

/// Creates the type. REQUIRES the GIL; false with a Python exception set on failure.
bool init();

/// The type (borrowed), what environ['wsgi.file_wrapper'] is.
PyObject* type() noexcept;

/// A byte range of an open file.
struct file_region {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// When `result` is exactly a FileWrapper around a regular file opened in
/// binary mode (fileno() works, fstat says S_ISREG, it is no io.TextIOBase):
/// the file from its current position (tell()) to its end. nullopt otherwise:
/// the host then iterates the wrapper. Never leaves an exception set.
/// REQUIRES the GIL.
std::optional<file_region> sendable_region(PyObject* result);

}  // namespace scalekit::serve::wsgi::file_wrapper
