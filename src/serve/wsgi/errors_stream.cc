#include "errors_stream.h"

#include "errors.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace scalekit::serve::wsgi {
namespace {

struct counters {
  std::atomic<std::uint64_t> lines{0}, cut_lines{0}, cut_bytes{0}, dropped_lines{0}, dropped_bytes{0};
};
counters totals;

// The rate: a bucket of errors_rate_burst bytes, refilled errors_rate_per_second.
// Once it runs dry, lines are dropped until it holds a second's worth again,
// so that a flood gets one notice a second, not one before every line that
// a trickle of refill lets through.
class rate_bucket {
 public:
  // Whether a line of `bytes` may go out now; when it may and lines were
  // dropped since the last one that did, `notice` says how many.
  bool take(std::size_t bytes, std::string& notice) {
    std::scoped_lock lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const double refill = std::chrono::duration<double>(now - last_).count() * errors_rate_per_second;
    last_ = now;
    tokens_ = std::min(static_cast<double>(errors_rate_burst), tokens_ + refill);
    if (dropping_ && tokens_ >= static_cast<double>(errors_rate_per_second)) dropping_ = false;
    if (dropping_ || tokens_ < static_cast<double>(bytes)) {
      dropping_ = true;
      ++lines_dropped_;
      bytes_dropped_ += bytes;
      return false;
    }
    tokens_ -= static_cast<double>(bytes);
    if (lines_dropped_ > 0) {
      notice = "wsgi.errors: " + std::to_string(lines_dropped_) + " lines (" + std::to_string(bytes_dropped_) +
               " bytes) dropped: more than " + std::to_string(errors_rate_per_second >> 20) + " MiB a second\n";
      lines_dropped_ = bytes_dropped_ = 0;
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  double tokens_ = static_cast<double>(errors_rate_burst);  // guarded by mutex_, as the rest
  bool dropping_ = false;
  std::uint64_t lines_dropped_ = 0, bytes_dropped_ = 0;
};
rate_bucket bucket;

// One line out (`line` without its newline; `cut` bytes cut off it), or dropped over the rate.
void emit(std::string& line, std::uint64_t cut) noexcept {
  try {
    if (cut > 0) {
      line += " [wsgi.errors: line cut at " + std::to_string(max_errors_line) + " bytes, " + std::to_string(cut) +
              " more dropped]";
      totals.cut_lines.fetch_add(1, std::memory_order_relaxed);
      totals.cut_bytes.fetch_add(cut, std::memory_order_relaxed);
    }
    line += '\n';
    std::string notice;
    if (!bucket.take(line.size(), notice)) {
      totals.dropped_lines.fetch_add(1, std::memory_order_relaxed);
      totals.dropped_bytes.fetch_add(line.size(), std::memory_order_relaxed);
      return;
    }
    if (!notice.empty()) errors::write_stderr(notice);
    errors::write_stderr(line);
    totals.lines.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {  // no memory for the marker: the line is lost, never the request
  }
}

// The calling thread's unfinished line: at most max_errors_line bytes, and
// how many more were cut off. It goes out at its newline, at the end of the
// request (end_line) or when the thread exits.
struct pending_line {
  std::string text;
  std::uint64_t cut = 0;
  void finish() noexcept {
    emit(text, cut);
    text.clear();
    cut = 0;
  }
  ~pending_line() {
    if (!text.empty() || cut > 0) finish();
  }
};
thread_local pending_line pending;

// UTF-8 bytes of characters [from, to) of a str, without encoding them
// (a lone surrogate counts 3, as its code point would).
std::uint64_t utf8_length(PyObject* s, Py_ssize_t from, Py_ssize_t to) {
  if (PyUnicode_IS_ASCII(s)) return static_cast<std::uint64_t>(to - from);
  const int kind = PyUnicode_KIND(s);
  const void* data = PyUnicode_DATA(s);
  std::uint64_t n = 0;
  for (Py_ssize_t i = from; i < to; ++i) {
    const Py_UCS4 c = PyUnicode_READ(kind, data, i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

// Characters [from, to) of `s`, none of them a newline, onto the pending line:
// as much as fits, the rest counted as cut. False with an exception set.
bool append(PyObject* s, Py_ssize_t from, Py_ssize_t to) {
  const std::size_t room = max_errors_line - std::min(max_errors_line, pending.text.size());
  // Each character is at least one byte: `room` characters hold what fits, whatever else there is.
  const Py_ssize_t take = std::min<Py_ssize_t>(to - from, static_cast<Py_ssize_t>(room));
  if (PyUnicode_IS_ASCII(s)) {
    pending.text.append(static_cast<const char*>(PyUnicode_DATA(s)) + from, static_cast<std::size_t>(take));
  } else if (take > 0) {
    py::ref part(PyUnicode_Substring(s, from, from + take));
    py::ref bytes(part ? PyUnicode_AsEncodedString(part.get(), "utf-8", "backslashreplace") : nullptr);
    if (!bytes) return false;
    const char* b = PyBytes_AS_STRING(bytes.get());
    const auto size = static_cast<std::size_t>(PyBytes_GET_SIZE(bytes.get()));
    std::size_t keep = std::min(size, room);
    if (keep < size)
      while (keep > 0 && (static_cast<unsigned char>(b[keep]) & 0xC0) == 0x80) --keep;  // a whole character
    pending.text.append(b, keep);
    pending.cut += size - keep;
  }
  pending.cut += utf8_length(s, from + take, to);
  return true;
}

PyObject* write(PyObject*, PyObject* text) {
  if (!PyUnicode_Check(text)) {
    PyErr_Format(PyExc_TypeError, "write() argument must be str, not %.100s", Py_TYPE(text)->tp_name);
    return nullptr;
  }
  const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
  for (Py_ssize_t start = 0; start < n;) {
    const Py_ssize_t newline = PyUnicode_FindChar(text, '\n', start, n, 1);
    if (newline == -2) return nullptr;
    if (!append(text, start, newline < 0 ? n : newline)) return nullptr;
    if (newline < 0) break;
    Py_BEGIN_ALLOW_THREADS;  // stderr may be a pipe that is full: other threads run meanwhile
    pending.finish();
    Py_END_ALLOW_THREADS;
    start = newline + 1;
  }
  return PyLong_FromSsize_t(n);
}

PyObject* writelines(PyObject* self, PyObject* lines) {
  py::ref it(PyObject_GetIter(lines));
  if (!it) return nullptr;
  while (py::ref line{PyIter_Next(it.get())}) {
    if (!py::ref(write(self, line.get()))) return nullptr;
  }
  if (PyErr_Occurred() != nullptr) return nullptr;
  Py_RETURN_NONE;
}

// Lines go out whole at their newline: nothing waits for a flush, and a
// flush does not split a line (print() writes its text, then "\n").
PyObject* flush(PyObject*, PyObject*) { Py_RETURN_NONE; }
PyObject* yes(PyObject*, PyObject*) { Py_RETURN_TRUE; }
PyObject* no(PyObject*, PyObject*) { Py_RETURN_FALSE; }
PyObject* encoding(PyObject*, void*) { return PyUnicode_FromString("utf-8"); }

PyMethodDef methods[] = {{"write", py::method(write), METH_O, "writes str; each line goes to stderr whole, bounded"},
                         {"writelines", py::method(writelines), METH_O, "writes each str of an iterable"},
                         {"flush", py::method(flush), METH_NOARGS, "does nothing: lines go out at their newline"},
                         {"writable", py::method(yes), METH_NOARGS, "True"},
                         {"isatty", py::method(no), METH_NOARGS, "False"},
                         {nullptr, nullptr, 0, nullptr}};
PyGetSetDef getset[] = {{"encoding", encoding, nullptr, "utf-8", nullptr},
                        {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot slots[] = {{Py_tp_dealloc, py::slot(py::dealloc_heap_object)},
                       {Py_tp_methods, methods},
                       {Py_tp_getset, getset},
                       {Py_tp_doc, const_cast<char*>("wsgi.errors: whole lines to the server's stderr, bounded")},
                       {0, nullptr}};
PyType_Spec spec = {"scalekit.wsgi.ErrorStream", sizeof(PyObject), 0, Py_TPFLAGS_DEFAULT, slots};

PyObject* the_stream = nullptr;

}  // namespace

namespace errors_stream {

bool init() {
  py::ref type(PyType_FromSpec(&spec));
  if (!type) return false;
  the_stream = reinterpret_cast<PyTypeObject*>(type.get())->tp_alloc(reinterpret_cast<PyTypeObject*>(type.get()), 0);
  return the_stream != nullptr;
}

PyObject* get() noexcept { return the_stream; }

void end_line() noexcept {
  if (!pending.text.empty() || pending.cut > 0) pending.finish();
}

}  // namespace errors_stream

errors_stats error_stream_stats() noexcept {
  return {totals.lines.load(std::memory_order_relaxed), totals.cut_lines.load(std::memory_order_relaxed),
          totals.cut_bytes.load(std::memory_order_relaxed), totals.dropped_lines.load(std::memory_order_relaxed),
          totals.dropped_bytes.load(std::memory_order_relaxed)};
}

}  // namespace scalekit::serve::wsgi
