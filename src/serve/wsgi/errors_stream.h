#pragma once
// wsgi.errors: a text stream that writes whole lines to stderr, bounded.
//
// sys.stderr passed every write through as it came: one line of 1 GiB went
// to the log whole, a huge amount of lines at whatever rate the application
// made them, and pieces written without a newline by two threads ran into
// each other. This stream keeps each thread's unfinished line (at most
// max_errors_line bytes: the rest of a longer line is cut, counted, and the
// line ends with a marker saying how much), writes each line with one
// write(2) (so the lines of several workers never mix), and lets through a
// bounded rate (errors_rate_burst, then errors_rate_per_second): lines over
// it are dropped, counted, and the next line that goes out is preceded by one
// saying how many were. A thread's unfinished line goes out when its request
// ends (host::call) or the thread exits. Tracebacks (lines of a few hundred
// bytes, a few KiB in all) pass untouched.

#include "py.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi::errors_stream {

/// Creates the stream. REQUIRES the GIL; false with a Python exception set on failure.
bool init();

/// The stream (borrowed): environ['wsgi.errors'] of every request.
PyObject* get() noexcept;

/// Writes out the calling thread's unfinished line, if any. Takes no GIL;
/// any thread.
void end_line() noexcept;

}  // namespace scalekit::serve::wsgi::errors_stream
