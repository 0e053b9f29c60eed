#pragma once
// Python exceptions turned into log text: one line, then the traceback.

#include <string>
#include <string_view>

#include "py.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi::errors {

struct py_error {
  /// "ZeroDivisionError: division by zero" on one line ("module.Type: ..." for
  /// types outside builtins, as traceback prints them).
  std::string summary;
  /// traceback.format_exception()'s text, ending in '\n'; the summary alone
  /// when it cannot be formatted.
  std::string traceback;
};

/// Takes the pending exception (clearing it) and formats it.
/// REQUIRES the GIL and a pending exception.
py_error take();

/// True when the pending exception (not cleared) is an instance of `type`.
bool pending_is(PyObject* type) noexcept;

/// The host's log function, or the default one (stderr, one write()).
void log(const log_fn& fn, std::string_view line, std::string_view traceback) noexcept;

/// Writes `text` to stderr, whole (one write(2) when the pipe takes it), or
/// stops at an error: a log that cannot be written loses its line, no more.
void write_stderr(std::string_view text) noexcept;

}  // namespace scalekit::serve::wsgi::errors
