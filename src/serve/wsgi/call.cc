// host::call: one request through one application (PEP 3333's server side).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "environ.h"
#include "errors.h"
#include "errors_stream.h"
#include "file_wrapper.h"
#include "input.h"
#include "interpreter.h"
#include "py.h"
#include "response.h"
#include "scalekit/serve/wsgi.h"
#include "start_response.h"

namespace scalekit::serve::wsgi {
namespace {

constexpr std::string_view no_start_response = "the app did not call start_response()";

// The worker's own pid: this code is loaded in the worker, after its exec.
const pid_t worker_pid = ::getpid();

// A child of os.fork() in the application that neither exec'd nor exited
// comes back here with none of the worker's other threads: it would wait
// forever for the event loop, holding the worker's sockets (the listening one
// too, so the port stays taken after the server stops). It ends at once,
// saying so with write(2) alone (a lock another thread held at the fork
// would never be released in the child).
void end_if_forked() {
  if (::getpid() == worker_pid) return;
  static constexpr char said[] =
      "scalekit serve: a process the WSGI application forked returned to the server: it exits\n";
  [[maybe_unused]] const auto n = ::write(2, said, sizeof said - 1);
  ::_exit(0);
}

// application(environ, start_response), in the worker alone.
PyObject* call_app(PyObject* app, PyObject* env, PyObject* start) {
  PyObject* returned = PyObject_CallFunctionObjArgs(app, env, start, nullptr);
  end_if_forked();
  return returned;
}

std::string not_bytes(PyObject* item) {
  return std::string("TypeError: the body must be bytes, not ") + Py_TYPE(item)->tp_name + ": " + py::short_repr(item);
}

// The pending exception ends the request: a 500 or a cut, logged, unless the
// client went away first (then the exception is most likely write()'s own).
outcome failed(response& r) {
  if (r.gone()) {
    PyErr_Clear();
    return outcome::client_gone;
  }
  auto e = errors::take();
  return r.fail(e.summary, e.traceback);
}

std::string_view bytes_view(PyObject* b) {
  return {PyBytes_AS_STRING(b), static_cast<std::size_t>(PyBytes_GET_SIZE(b))};
}

// A list or tuple: every item checked before anything is sent, then the whole
// body with one release of the GIL. References are taken first, since another
// Python thread could change a list while this one sends without the GIL.
outcome send_sequence(PyObject* result, response& r) {
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(result);
  std::vector<py::ref> items;
  std::vector<std::string_view> chunks;
  items.reserve(static_cast<std::size_t>(n));
  chunks.reserve(static_cast<std::size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(result, i);
    if (!PyBytes_Check(item)) return r.fail(not_bytes(item), {});
    items.push_back(py::ref::borrow(item));
    chunks.push_back(bytes_view(item));
  }
  if (!r.head_set()) return r.fail(no_start_response, {});
  return r.send_all(chunks);
}

outcome send_iterable(PyObject* result, response& r) {
  py::ref it(PyObject_GetIter(result));
  if (!it) return failed(r);
  for (;;) {
    py::ref item(PyIter_Next(it.get()));
    end_if_forked();
    if (!item) {
      if (PyErr_Occurred()) return failed(r);
      break;
    }
    if (!PyBytes_Check(item.get())) return r.fail(not_bytes(item.get()), {});
    if (PyBytes_GET_SIZE(item.get()) == 0) {  // the head waits for a non-empty piece
      if (r.send({}) == response::sent::gone) return outcome::client_gone;
      continue;
    }
    if (!r.head_set()) return r.fail(no_start_response, {});
    const auto s = r.send(bytes_view(item.get()));
    if (s == response::sent::gone) return outcome::client_gone;
    if (s == response::sent::full) break;  // logged; what is left would be cut off anyway
  }
  if (!r.head_set()) return r.fail(no_start_response, {});
  return r.finish();
}

outcome send_body(PyObject* result, response& r) {
  if (auto region = file_wrapper::sendable_region(result)) {
    if (!r.head_set()) return r.fail(no_start_response, {});
    if (r.send_file(*region) == response::sent::gone) return outcome::client_gone;
    return r.finish();
  }
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) return send_sequence(result, r);
  return send_iterable(result, r);
}

// PEP 3333: the server calls close() on the result if it has one, whatever
// happened (an error, a client that went away). Its errors are logged only:
// the response's fate is decided by then.
void close_result(PyObject* result, response& r) {
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) return;
  py::ref close(PyObject_GetAttrString(result, "close"));
  if (!close) {
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
      PyErr_Clear();
      return;
    }
  } else if (py::ref(PyObject_CallNoArgs(close.get()))) {
    return;
  }
  auto e = errors::take();
  r.log("its result's close() raised " + e.summary, e.traceback);
}

}  // namespace

call_result host::call(app_id id, const request& req, response_sink& sink) {
  app_entry& app = apps_.at(id);
  counters& c = *app.stats;
  c.calls.fetch_add(1, std::memory_order_relaxed);
  std::atomic<std::uint64_t> waited{0};  // a write() from another Python thread records its waits too
  const interpreter::gil_clock clock{&c.gil_wait_ns, &c.gil_wait_max_ns, &waited};
  const call_context ctx{&options_.log, app.spec.target, req.method, req.target};
  const environ::settings settings{options_.threads > 1, options_.multiprocess};

  call_result out;
  {
    interpreter::gil_scope gil(clock);
    response r(sink, clock, ctx);
    py::ref input = input::make(req.body);
    py::ref env = input ? environ::build(req, app.spec.mount, input.get(), settings) : py::ref();
    py::ref start = env ? start_response::make(&r) : py::ref();
    outcome what;
    if (!start) {
      auto e = errors::take();
      what = r.fail("the server could not make the environ: " + e.summary, e.traceback);
    } else if (py::ref returned(call_app(static_cast<PyObject*>(app.callable), env.get(), start.get())); !returned) {
      what = failed(r);
    } else {
      what = send_body(returned.get(), r);
      close_result(returned.get(), r);
    }
    // A write() from another Python thread may still be sending: let it end
    // before the response goes away, then unbind what the app may have kept.
    r.wait_idle();
    start_response::detach(start.get());
    input::detach(input.get());
    out = r.result(what);
  }
  out.gil_wait = std::chrono::nanoseconds(waited.load(std::memory_order_relaxed));
  errors_stream::end_line();  // a line the app left unfinished is this request's, not the next one's
  switch (out.what) {
    case outcome::ok: break;
    case outcome::app_error: c.app_errors.fetch_add(1, std::memory_order_relaxed); break;
    case outcome::cut: c.cut.fetch_add(1, std::memory_order_relaxed); break;
    case outcome::client_gone: c.client_gone.fetch_add(1, std::memory_order_relaxed); break;
  }
  return out;
}

}  // namespace scalekit::serve::wsgi
