#pragma once
// start_response(status, headers, exc_info=None) and the write(data) callable
// it returns (PEP 3333), bound to one response.

#include "py.h"
#include "response.h"

namespace scalekit::serve::wsgi::start_response {

/// Creates the types. REQUIRES the GIL; false with a Python exception set on failure.
bool init();

/// A start_response callable for `r`, which must outlive it or be detached
/// first. REQUIRES the GIL.
py::ref make(response* r);

/// Unbinds the callable and its write(): later calls raise RuntimeError (an
/// application may keep them past its request). REQUIRES the GIL.
void detach(PyObject* start_response) noexcept;

}  // namespace scalekit::serve::wsgi::start_response
