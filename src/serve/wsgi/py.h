#pragma once
// The one place that includes Python.h, and an owning reference to a Python
// object. Every function in src/serve/wsgi that takes or returns PyObject*
// REQUIRES the GIL unless it says otherwise.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <string_view>
#include <utility>

namespace scalekit::serve::wsgi::py {

/// A strong reference (Py_XDECREF on destruction). REQUIRES the GIL for every
/// operation that changes a non-null reference, destruction included.
class ref {
 public:
  ref() noexcept = default;
  /// Takes over a new reference (nullptr allowed: a failed call).
  explicit ref(PyObject* owned) noexcept : p_(owned) {}
  static ref borrow(PyObject* p) noexcept {
    Py_XINCREF(p);
    return ref(p);
  }
  ref(const ref& o) noexcept : p_(o.p_) { Py_XINCREF(p_); }
  ref(ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  ref& operator=(ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~ref() { Py_XDECREF(p_); }

  [[nodiscard]] PyObject* get() const noexcept { return p_; }
  [[nodiscard]] PyObject* release() noexcept { return std::exchange(p_, nullptr); }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  PyObject* p_ = nullptr;
};

/// A str from bytes taken as latin-1: PEP 3333's "native string".
inline ref latin1(std::string_view s) {
  return ref(PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr));
}

/// A C function as a type slot (PyType_Slot::pfunc).
template <typename F>
void* slot(F* f) noexcept {
  return reinterpret_cast<void*>(f);
}
/// A METH_FASTCALL, METH_NOARGS or METH_O function as PyMethodDef::ml_meth.
template <typename F>
PyCFunction method(F* f) noexcept {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

/// Frees an instance of a heap type without GC support, and the reference to
/// its type that the instance holds.
inline void dealloc_heap_object(PyObject* self) noexcept {
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

/// str(o) as UTF-8 (with replacement), for messages; "<unprintable>" when str() fails.
std::string to_string(PyObject* o);
/// repr(o), cut to `max` characters, for messages.
std::string short_repr(PyObject* o, std::size_t max = 60);

}  // namespace scalekit::serve::wsgi::py
