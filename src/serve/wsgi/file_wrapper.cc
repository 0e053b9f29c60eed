#include "file_wrapper.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace scalekit::serve::wsgi::file_wrapper {
namespace {

struct wrapper {
  PyObject_HEAD PyObject* filelike;
  Py_ssize_t blksize;
};

PyTypeObject* wrapper_type = nullptr;
PyObject* text_io_base = nullptr;  // io.TextIOBase

wrapper* as_wrapper(PyObject* self) { return reinterpret_cast<wrapper*>(self); }

PyObject* create(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"filelike", "blksize", nullptr};
  PyObject* filelike = nullptr;
  Py_ssize_t blksize = 8192;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:FileWrapper", const_cast<char**>(names), &filelike, &blksize))
    return nullptr;
  if (blksize <= 0) {
    PyErr_SetString(PyExc_ValueError, "FileWrapper: blksize must be positive");
    return nullptr;
  }
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  Py_INCREF(filelike);
  as_wrapper(self)->filelike = filelike;
  as_wrapper(self)->blksize = blksize;
  return self;
}

void dealloc(PyObject* self) {
  Py_CLEAR(as_wrapper(self)->filelike);
  py::dealloc_heap_object(self);
}

PyObject* iter(PyObject* self) {
  Py_INCREF(self);
  return self;
}

// The next block, or the end (nullptr without an exception) at an empty read.
PyObject* next(PyObject* self) {
  wrapper* w = as_wrapper(self);
  py::ref data(PyObject_CallMethod(w->filelike, "read", "n", w->blksize));
  if (!data) return nullptr;
  const int truth = PyObject_IsTrue(data.get());
  if (truth < 0) return nullptr;
  return truth == 1 ? data.release() : nullptr;
}

PyObject* close(PyObject* self, PyObject*) {
  wrapper* w = as_wrapper(self);
  py::ref method(PyObject_GetAttrString(w->filelike, "close"));
  if (!method) {
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return nullptr;
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  return PyObject_CallNoArgs(method.get());
}

PyObject* get_filelike(PyObject* self, void*) {
  Py_INCREF(as_wrapper(self)->filelike);
  return as_wrapper(self)->filelike;
}

PyMethodDef methods[] = {{"close", py::method(close), METH_NOARGS, "closes the file-like object, if it can be"},
                         {nullptr, nullptr, 0, nullptr}};
PyGetSetDef getset[] = {{"filelike", get_filelike, nullptr, "the wrapped object", nullptr},
                        {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot slots[] = {{Py_tp_new, py::slot(create)},
                       {Py_tp_dealloc, py::slot(dealloc)},
                       {Py_tp_iter, py::slot(iter)},
                       {Py_tp_iternext, py::slot(next)},
                       {Py_tp_methods, methods},
                       {Py_tp_getset, getset},
                       {Py_tp_doc, const_cast<char*>("FileWrapper(filelike, blksize=8192): wsgi.file_wrapper")},
                       {0, nullptr}};

PyType_Spec spec = {"scalekit.wsgi.FileWrapper", sizeof(wrapper), 0, Py_TPFLAGS_DEFAULT, slots};

// fileno() and tell() of `filelike`, or false (and no exception) when it has none.
bool call_int(PyObject* filelike, const char* name, long long& out) {
  py::ref v(PyObject_CallMethod(filelike, name, nullptr));
  if (v) out = PyLong_AsLongLong(v.get());
  if (!v || (out == -1 && PyErr_Occurred())) {
    PyErr_Clear();
    return false;
  }
  return true;
}

}  // namespace

bool init() {
  wrapper_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  py::ref io(PyImport_ImportModule("io"));
  if (io) text_io_base = PyObject_GetAttrString(io.get(), "TextIOBase");
  return wrapper_type != nullptr && text_io_base != nullptr;
}

PyObject* type() noexcept { return reinterpret_cast<PyObject*>(wrapper_type); }

std::optional<file_region> sendable_region(PyObject* result) {
  if (Py_TYPE(result) != wrapper_type) return std::nullopt;
  PyObject* filelike = as_wrapper(result)->filelike;
  const int text = PyObject_IsInstance(filelike, text_io_base);
  if (text != 0) {
    PyErr_Clear();
    return std::nullopt;  // str blocks: iterating reports the error
  }
  long long fd = -1, position = 0;
  if (!call_int(filelike, "fileno", fd) || fd < 0 || fd > INT32_MAX) return std::nullopt;
  struct stat st {};
  if (::fstat(static_cast<int>(fd), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (!call_int(filelike, "tell", position)) {
    position = ::lseek(static_cast<int>(fd), 0, SEEK_CUR);
    if (position < 0) return std::nullopt;
  }
  file_region r;
  r.fd = static_cast<int>(fd);
  r.offset = static_cast<std::uint64_t>(std::max<long long>(position, 0));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  r.length = r.offset < size ? size - r.offset : 0;
  return r;
}

}  // namespace scalekit::serve::wsgi::file_wrapper
