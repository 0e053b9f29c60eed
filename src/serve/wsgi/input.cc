#include "input.h"

#include <algorithm>
#include <cstring>

namespace scalekit::serve::wsgi::input {
namespace {

struct stream {
  PyObject_HEAD const char* data;
  Py_ssize_t size;
  Py_ssize_t pos;
  bool detached;
};

PyTypeObject* stream_type = nullptr;

stream* as_stream(PyObject* self) { return reinterpret_cast<stream*>(self); }

bool check_open(stream* s) {
  if (!s->detached) return true;
  PyErr_SetString(PyExc_ValueError, "wsgi.input: the request is over");
  return false;
}

// The optional size/hint argument: absent, None or negative mean "no limit" (-1).
bool limit_arg(PyObject* const* args, Py_ssize_t nargs, const char* name, Py_ssize_t& out) {
  out = -1;
  if (nargs > 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs);
    return false;
  }
  if (nargs == 0 || args[0] == Py_None) return true;
  if (!PyIndex_Check(args[0])) {
    PyErr_Format(PyExc_TypeError, "%s(): the argument must be an int or None, not %.100s", name,
                 Py_TYPE(args[0])->tp_name);
    return false;
  }
  out = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
  if (out == -1 && PyErr_Occurred()) return false;
  if (out < 0) out = -1;
  return true;
}

PyObject* take(stream* s, Py_ssize_t n) {
  PyObject* b = PyBytes_FromStringAndSize(s->data + s->pos, n);
  if (b != nullptr) s->pos += n;
  return b;
}

Py_ssize_t line_length(const stream* s, Py_ssize_t limit) {
  const Py_ssize_t left = s->size - s->pos;
  const Py_ssize_t span = limit < 0 ? left : std::min(limit, left);
  const void* nl = span > 0 ? std::memchr(s->data + s->pos, '\n', static_cast<std::size_t>(span)) : nullptr;
  return nl == nullptr ? span : static_cast<const char*>(nl) - (s->data + s->pos) + 1;
}

PyObject* read(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  stream* s = as_stream(self);
  Py_ssize_t size = -1;
  if (!limit_arg(args, nargs, "read", size) || !check_open(s)) return nullptr;
  const Py_ssize_t left = s->size - s->pos;
  return take(s, size < 0 ? left : std::min(size, left));
}

PyObject* readline(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  stream* s = as_stream(self);
  Py_ssize_t size = -1;
  if (!limit_arg(args, nargs, "readline", size) || !check_open(s)) return nullptr;
  return take(s, line_length(s, size));
}

PyObject* readlines(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  stream* s = as_stream(self);
  Py_ssize_t hint = -1;
  if (!limit_arg(args, nargs, "readlines", hint) || !check_open(s)) return nullptr;
  py::ref lines(PyList_New(0));
  if (!lines) return nullptr;
  Py_ssize_t total = 0;
  while (s->pos < s->size && (hint <= 0 || total < hint)) {
    const Py_ssize_t n = line_length(s, -1);
    py::ref line(take(s, n));
    if (!line || PyList_Append(lines.get(), line.get()) < 0) return nullptr;
    total += n;
  }
  return lines.release();
}

PyObject* readinto(PyObject* self, PyObject* target) {
  stream* s = as_stream(self);
  if (!check_open(s)) return nullptr;
  Py_buffer view;
  if (PyObject_GetBuffer(target, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) return nullptr;
  const Py_ssize_t n = std::min(view.len, s->size - s->pos);
  if (n > 0) std::memcpy(view.buf, s->data + s->pos, static_cast<std::size_t>(n));
  s->pos += n;
  PyBuffer_Release(&view);
  return PyLong_FromSsize_t(n);
}

PyObject* readable(PyObject* self, PyObject*) {
  if (!check_open(as_stream(self))) return nullptr;
  Py_RETURN_TRUE;
}

PyObject* close(PyObject*, PyObject*) { Py_RETURN_NONE; }  // the server owns the body

PyObject* iter(PyObject* self) {
  if (!check_open(as_stream(self))) return nullptr;
  Py_INCREF(self);
  return self;
}

PyObject* next(PyObject* self) {
  stream* s = as_stream(self);
  if (!check_open(s)) return nullptr;
  if (s->pos >= s->size) return nullptr;  // StopIteration
  return take(s, line_length(s, -1));
}

PyMethodDef methods[] = {{"read", py::method(read), METH_FASTCALL,
                          "read(size=-1) -> bytes: up to size bytes, all that is left by default"},
                         {"readline", py::method(readline), METH_FASTCALL,
                          "readline(size=-1) -> bytes: up to and including the next b'\\n'"},
                         {"readlines", py::method(readlines), METH_FASTCALL, "readlines(hint=-1) -> list of lines"},
                         {"readinto", py::method(readinto), METH_O, "readinto(buffer) -> number of bytes read"},
                         {"readable", py::method(readable), METH_NOARGS, "True"},
                         {"close", py::method(close), METH_NOARGS, "does nothing: the server owns the body"},
                         {nullptr, nullptr, 0, nullptr}};

PyType_Slot slots[] = {{Py_tp_dealloc, py::slot(py::dealloc_heap_object)},
                       {Py_tp_iter, py::slot(iter)},
                       {Py_tp_iternext, py::slot(next)},
                       {Py_tp_methods, methods},
                       {Py_tp_doc, const_cast<char*>("wsgi.input: the request body (PEP 3333)")},
                       {0, nullptr}};

PyType_Spec spec = {"scalekit.wsgi.Input", sizeof(stream), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                    slots};

}  // namespace

bool init() {
  stream_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  return stream_type != nullptr;
}

py::ref make(std::string_view body) {
  stream* s = PyObject_New(stream, stream_type);
  if (s == nullptr) return {};
  s->data = body.data();
  s->size = static_cast<Py_ssize_t>(body.size());
  s->pos = 0;
  s->detached = false;
  return py::ref(reinterpret_cast<PyObject*>(s));
}

void detach(PyObject* self) noexcept {
  if (self == nullptr) return;
  stream* s = as_stream(self);
  s->data = nullptr;
  s->size = 0;
  s->pos = 0;
  s->detached = true;
}

}  // namespace scalekit::serve::wsgi::input
