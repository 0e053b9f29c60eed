#include "start_response.h"

#include <string>
#include <string_view>
#include <utility>

#include "protocol.h"
#include "scalekit/net/http.h"

namespace scalekit::serve::wsgi::start_response {
namespace {

struct writer {
  PyObject_HEAD response* r;
};

struct starter {
  PyObject_HEAD response* r;
  PyObject* write;  // made by the first call, the same object afterwards
};

PyTypeObject* writer_type = nullptr;
PyTypeObject* starter_type = nullptr;

// The latin-1 bytes of a str whose characters are all below 256 (a native
// string); false with a Python exception naming `what` otherwise.
bool native_string(PyObject* o, const char* what, std::string_view& out) {
  if (!PyUnicode_Check(o)) {
    PyErr_Format(PyExc_TypeError, "start_response: %s must be a str, not %.100s", what, Py_TYPE(o)->tp_name);
    return false;
  }
  if (PyUnicode_KIND(o) != PyUnicode_1BYTE_KIND) {
    PyErr_Format(PyExc_ValueError, "start_response: %s %R has characters beyond latin-1", what, o);
    return false;
  }
  out = {reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(o)), static_cast<std::size_t>(PyUnicode_GET_LENGTH(o))};
  return true;
}

bool parse_head(PyObject* status, PyObject* headers, response::head& h) {
  std::string_view text;
  if (!native_string(status, "the status", text)) return false;
  std::string why;
  const auto code = protocol::parse_status(text, why);
  if (!code) {
    PyErr_Format(PyExc_ValueError, "start_response: the status %R %s", status, why.c_str());
    return false;
  }
  h.code = *code;
  h.status = std::string(text);

  if (!PyList_Check(headers) && !PyTuple_Check(headers)) {
    PyErr_Format(PyExc_TypeError, "start_response: the headers must be a list of (name, value) tuples, not %.100s",
                 Py_TYPE(headers)->tp_name);
    return false;
  }
  // The bounds of a request's head (net::http_limits: 100 fields, 16 KiB of
  // field lines) hold for the app's head too, checked before anything is copied.
  const net::http_limits limits;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
  if (static_cast<std::size_t>(n) > limits.max_headers) {
    PyErr_Format(PyExc_ValueError, "start_response: %zd header fields, more than the %zu a response may have", n,
                 limits.max_headers);
    return false;
  }
  h.headers.reserve(static_cast<std::size_t>(n));
  std::size_t head_bytes = 0;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(headers, i);
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_Format(PyExc_TypeError, "start_response: header %zd must be a (name, value) tuple, not %.100s", i,
                   Py_TYPE(item)->tp_name);
      return false;
    }
    std::string_view name, value;
    if (!native_string(PyTuple_GET_ITEM(item, 0), "a header name", name) ||
        !native_string(PyTuple_GET_ITEM(item, 1), "a header value", value))
      return false;
    head_bytes += name.size() + value.size() + 4;  // "name: value\r\n"
    if (head_bytes > limits.max_header_bytes) {
      PyErr_Format(PyExc_ValueError,
                   "start_response: the header fields take more than the %zu bytes a response may have "
                   "(%zu with header %zd, %R)",
                   limits.max_header_bytes, head_bytes, i, PyTuple_GET_ITEM(item, 0));
      return false;
    }
    if (!protocol::is_token(name)) {
      PyErr_Format(PyExc_ValueError, "start_response: the header name %R is not an HTTP token",
                   PyTuple_GET_ITEM(item, 0));
      return false;
    }
    if (!protocol::is_field_value(value)) {
      PyErr_Format(PyExc_ValueError, "start_response: the value of header %R has a control character: %R",
                   PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1));
      return false;
    }
    if (protocol::is_hop_by_hop(name)) {
      PyErr_Format(PyExc_ValueError,
                   "start_response: %R is a hop-by-hop header, which only the server sends (PEP 3333)",
                   PyTuple_GET_ITEM(item, 0));
      return false;
    }
    if (protocol::iequals(name, "Content-Length")) {
      const auto length = protocol::parse_content_length(value);
      if (!length || (h.content_length && *h.content_length != *length)) {
        PyErr_Format(PyExc_ValueError, "start_response: bad Content-Length %R", PyTuple_GET_ITEM(item, 1));
        return false;
      }
      h.content_length = length;
    }
    h.headers.emplace_back(name, value);
  }
  return true;
}

PyObject* call_start(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"status", "headers", "exc_info", nullptr};
  PyObject *status = nullptr, *headers = nullptr, *exc_info = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:start_response", const_cast<char**>(names), &status, &headers,
                                   &exc_info))
    return nullptr;
  auto* s = reinterpret_cast<starter*>(self);
  response* r = s->r;
  if (r == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "start_response() called after its request ended");
    return nullptr;
  }
  if (exc_info != Py_None) {
    if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
      PyErr_SetString(PyExc_TypeError, "start_response: exc_info must be a (type, value, traceback) tuple");
      return nullptr;
    }
    if (PyTuple_GET_ITEM(exc_info, 0) == Py_None) exc_info = Py_None;  // sys.exc_info() outside an except
  }
  if (exc_info != Py_None && r->head_sent()) {
    // PEP 3333: too late to change the head; re-raise the application's error.
    PyObject* type = PyTuple_GET_ITEM(exc_info, 0);
    PyObject* value = PyTuple_GET_ITEM(exc_info, 1);
    PyObject* tb = PyTuple_GET_ITEM(exc_info, 2);
    Py_INCREF(type);
    Py_XINCREF(value == Py_None ? nullptr : value);
    Py_XINCREF(tb == Py_None ? nullptr : tb);
    PyErr_Restore(type, value == Py_None ? nullptr : value, tb == Py_None ? nullptr : tb);
    return nullptr;
  }
  if (exc_info == Py_None && r->head_set()) {
    PyErr_SetString(PyExc_RuntimeError, "start_response() called a second time without exc_info (PEP 3333)");
    return nullptr;
  }
  response::head h;
  if (!parse_head(status, headers, h)) return nullptr;
  r->set_head(std::move(h));
  if (s->write == nullptr) {
    writer* w = PyObject_New(writer, writer_type);
    if (w == nullptr) return nullptr;
    w->r = r;
    s->write = reinterpret_cast<PyObject*>(w);
  }
  Py_INCREF(s->write);
  return s->write;
}

PyObject* call_write(PyObject* self, PyObject* args, PyObject* kwargs) {
  PyObject* data = nullptr;
  if ((kwargs != nullptr && PyDict_GET_SIZE(kwargs) != 0) || !PyArg_ParseTuple(args, "O:write", &data)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "write() takes no keyword arguments");
    return nullptr;
  }
  response* r = reinterpret_cast<writer*>(self)->r;
  if (r == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "write() called after its request ended");
    return nullptr;
  }
  if (!PyBytes_Check(data)) {
    PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.100s", Py_TYPE(data)->tp_name);
    return nullptr;
  }
  const std::string_view chunk(PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data)));
  if (r->send(chunk) == response::sent::gone) {  // the args tuple keeps `data` alive meanwhile
    PyErr_SetString(PyExc_BrokenPipeError, "write(): the client went away");
    return nullptr;
  }
  Py_RETURN_NONE;
}

void dealloc_starter(PyObject* self) {
  Py_CLEAR(reinterpret_cast<starter*>(self)->write);
  py::dealloc_heap_object(self);
}

PyType_Slot writer_slots[] = {{Py_tp_dealloc, py::slot(py::dealloc_heap_object)},
                              {Py_tp_call, py::slot(call_write)},
                              {Py_tp_doc, const_cast<char*>("write(data): sends bytes now (PEP 3333)")},
                              {0, nullptr}};
PyType_Spec writer_spec = {"scalekit.wsgi.Write", sizeof(writer), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, writer_slots};

PyType_Slot starter_slots[] = {
    {Py_tp_dealloc, py::slot(dealloc_starter)},
    {Py_tp_call, py::slot(call_start)},
    {Py_tp_doc, const_cast<char*>("start_response(status, headers, exc_info=None) -> write (PEP 3333)")},
    {0, nullptr}};
PyType_Spec starter_spec = {"scalekit.wsgi.StartResponse", sizeof(starter), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, starter_slots};

}  // namespace

bool init() {
  writer_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&writer_spec));
  starter_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&starter_spec));
  return writer_type != nullptr && starter_type != nullptr;
}

py::ref make(response* r) {
  starter* s = PyObject_New(starter, starter_type);
  if (s == nullptr) return {};
  s->r = r;
  s->write = nullptr;
  return py::ref(reinterpret_cast<PyObject*>(s));
}

void detach(PyObject* start) noexcept {
  if (start == nullptr) return;
  auto* s = reinterpret_cast<starter*>(start);
  s->r = nullptr;
  if (s->write != nullptr) reinterpret_cast<writer*>(s->write)->r = nullptr;
}

}  // namespace scalekit::serve::wsgi::start_response
