#pragma once
// wsgi.input: the request body as a Python file-like object (read, readline,
// readlines, iteration, readinto), over the worker's bytes without a copy.

#include <string_view>

#include "py.h"

namespace scalekit::serve::wsgi::input {

/// Creates the type. REQUIRES the GIL; false with a Python exception set on failure.
bool init();

/// A stream over `body`, which must stay valid until detach(). REQUIRES the GIL.
py::ref make(std::string_view body);

/// Forgets the body: later reads raise ValueError (an application may keep the
/// environ past its request). REQUIRES the GIL.
void detach(PyObject* stream) noexcept;

}  // namespace scalekit::serve::wsgi::input
