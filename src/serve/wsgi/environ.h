#pragma once
// The WSGI environ of a request (PEP 3333's CGI variables and wsgi.* keys).

#include <string_view>

#include "py.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi::environ {

/// Interns the keys and makes the constant values. REQUIRES the GIL; false
/// with a Python exception set on failure.
bool init();

struct settings {
  bool multithread = false;
  bool multiprocess = false;
};

/// A new dict for `req` served under `mount` (normalised: "" or "/prefix"),
/// with `input` as wsgi.input. See host::call for what it holds.
/// REQUIRES the GIL; nullptr with a Python exception set on failure.
py::ref build(const request& req, std::string_view mount, PyObject* input, const settings& s);

}  // namespace scalekit::serve::wsgi::environ
