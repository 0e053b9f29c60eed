#include "errors.h"

#include <unistd.h>

#include <cerrno>

namespace scalekit::serve::wsgi {

std::string py::to_string(PyObject* o) {
  ref s(PyObject_Str(o));
  if (!s) {
    PyErr_Clear();
    return "<unprintable>";
  }
  Py_ssize_t n = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(s.get(), &n);
  if (utf8 == nullptr) {  // lone surrogates
    PyErr_Clear();
    ref b(PyUnicode_AsEncodedString(s.get(), "utf-8", "backslashreplace"));
    if (!b) {
      PyErr_Clear();
      return "<unprintable>";
    }
    return {PyBytes_AS_STRING(b.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(b.get()))};
  }
  return {utf8, static_cast<std::size_t>(n)};
}

std::string py::short_repr(PyObject* o, std::size_t max) {
  ref r(PyObject_Repr(o));
  if (!r) {
    PyErr_Clear();
    return "<unprintable>";
  }
  std::string s = to_string(r.get());
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

namespace errors {
namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// "ValueError" for builtins, "module.Type" otherwise, as traceback prints it.
std::string type_name(PyObject* type) {
  py::ref qualname(PyObject_GetAttrString(type, "__qualname__"));
  py::ref module(PyObject_GetAttrString(type, "__module__"));
  PyErr_Clear();
  std::string name = qualname ? py::to_string(qualname.get()) : "<unknown exception>";
  if (module && PyUnicode_Check(module.get())) {
    const std::string m = py::to_string(module.get());
    if (m != "builtins" && m != "__main__") name = m + "." + name;
  }
  return name;
}

}  // namespace

py_error take() {
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  py::ref t(type), v(value), trace(tb);
  if (v && trace) PyException_SetTraceback(v.get(), trace.get());

  py_error e;
  e.summary = t ? type_name(t.get()) : "<unknown exception>";
  if (v) {
    const std::string message = py::to_string(v.get());
    if (!message.empty()) e.summary += ": " + one_line(message);
  }
  py::ref module(PyImport_ImportModule("traceback"));
  py::ref lines(module && v ? PyObject_CallMethod(module.get(), "format_exception", "O", v.get()) : nullptr);
  py::ref empty(PyUnicode_FromString(""));
  py::ref text(lines && empty ? PyUnicode_Join(empty.get(), lines.get()) : nullptr);
  if (text) {
    e.traceback = py::to_string(text.get());
  } else {
    PyErr_Clear();
    e.traceback = e.summary + "\n";
  }
  return e;
}

bool pending_is(PyObject* type) noexcept { return PyErr_Occurred() != nullptr && PyErr_ExceptionMatches(type); }

void log(const log_fn& fn, std::string_view line, std::string_view traceback) noexcept {
  try {
    if (fn) {
      fn(line, traceback);
      return;
    }
    std::string text;
    text.reserve(line.size() + 1 + traceback.size());
    text.append(line).append("\n").append(traceback);
    write_stderr(text);
  } catch (...) {  // a log function that throws loses its line, never the request
  }
}

void write_stderr(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace errors
}  // namespace scalekit::serve::wsgi
