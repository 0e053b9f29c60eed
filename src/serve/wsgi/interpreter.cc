#include "interpreter.h"

#include <filesystem>
#include <mutex>
#include <string>

#include "environ.h"
#include "errors.h"
#include "errors_stream.h"
#include "file_wrapper.h"
#include "input.h"
#include "start_response.h"

namespace scalekit::serve::wsgi::interpreter {
namespace {

std::mutex start_mutex;
std::atomic<PyInterpreterState*> the_interpreter{nullptr};

// The calling thread's Python thread state, made by PyGILState_Ensure() on its
// first gil_scope and kept (the GIL released, the thread state's count at 1)
// until the thread exits, so C extensions that call PyGILState_Ensure() inside
// a request find it. The thread that started the interpreter has its main
// thread state already: it is used as it is and left alone at exit, so that
// exit() from that thread never waits for the GIL.
struct thread_slot {
  PyThreadState* state = nullptr;
  bool made = false;  // by PyGILState_Ensure(), to be deleted at the thread's exit
  PyGILState_STATE ensured{};
  ~thread_slot() {
    if (!made) return;
    PyEval_RestoreThread(state);
    PyGILState_Release(ensured);  // deletes the state, and releases the GIL
  }
};
thread_local thread_slot slot;

status from_pystatus(const PyStatus& s, const char* what) {
  std::string why = what;
  if (s.func != nullptr) why += std::string(" (") + s.func + ")";
  if (s.err_msg != nullptr) why += std::string(": ") + s.err_msg;
  return status::internal("cannot start Python: " + why);
}

status configure_and_start(const host_options& o) {
  // Locale coercion would setenv(LC_CTYPE) in a process that may run threads;
  // under the C locale CPython then turns on its UTF-8 mode by itself.
  PyPreConfig pre;
  PyPreConfig_InitPythonConfig(&pre);
  pre.coerce_c_locale = 0;
  pre.coerce_c_locale_warn = 0;
  PyStatus s = Py_PreInitialize(&pre);
  if (PyStatus_Exception(s)) return from_pystatus(s, "pre-initialisation failed");

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // the server owns SIGINT, SIGPIPE, SIGXFSZ...
  config.buffered_stdio = 0;           // an app's print() is not lost when a worker is killed
  config.parse_argv = 0;
  std::string argv0 = o.argv0;
  char* argv[] = {argv0.data()};
  s = PyConfig_SetBytesString(&config, &config.program_name, o.program_name.c_str());
  if (!PyStatus_Exception(s)) s = PyConfig_SetBytesArgv(&config, 1, argv);
  if (!PyStatus_Exception(s)) s = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(s)) return from_pystatus(s, "initialisation failed");

  // This thread holds the GIL until the end of this function.
  const bool ready =
      environ::init() && errors_stream::init() && input::init() && file_wrapper::init() && start_response::init();
  status outcome;
  if (ready)
    the_interpreter.store(PyInterpreterState_Get(), std::memory_order_release);
  else
    outcome = status::internal("cannot start Python: " + errors::take().summary);
  PyEval_SaveThread();
  return outcome;
}

}  // namespace

status ensure_started(const host_options& options) {
  static status failed;  // a second start after a failed one fails the same way
  std::lock_guard lock(start_mutex);
  if (the_interpreter.load(std::memory_order_acquire) != nullptr) return {};
  if (!failed.ok()) return failed;
  if (Py_IsInitialized()) return failed = status::internal("cannot start Python: the process embeds it already");
  return failed = configure_and_start(options);
}

PyInterpreterState* get() noexcept { return the_interpreter.load(std::memory_order_acquire); }

void gil_clock::record(std::chrono::nanoseconds waited) const noexcept {
  const auto ns = static_cast<std::uint64_t>(waited.count());
  if (total_ns != nullptr) total_ns->fetch_add(ns, std::memory_order_relaxed);
  if (call_ns != nullptr) call_ns->fetch_add(ns, std::memory_order_relaxed);
  if (max_ns != nullptr) {
    std::uint64_t seen = max_ns->load(std::memory_order_relaxed);
    while (ns > seen && !max_ns->compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
    }
  }
}

gil_scope::gil_scope(const gil_clock& clock) {
  const auto t0 = std::chrono::steady_clock::now();
  if (slot.state == nullptr) slot.state = PyGILState_GetThisThreadState();  // the main thread's, or nullptr
  if (slot.state == nullptr) {
    slot.ensured = PyGILState_Ensure();
    slot.state = PyThreadState_Get();
    slot.made = true;
  } else {
    PyEval_RestoreThread(slot.state);
  }
  clock.record(std::chrono::steady_clock::now() - t0);
}

gil_scope::~gil_scope() { PyEval_SaveThread(); }

bool put_first_on_path(const std::vector<std::string>& dirs) {
  std::vector<std::string> first;
  std::error_code ec;
  for (const auto& d : dirs) first.push_back(std::filesystem::absolute(d, ec).lexically_normal().string());
  first.push_back(std::filesystem::current_path(ec).string());

  PyObject* path = PySys_GetObject("path");  // borrowed
  if (path == nullptr || !PyList_Check(path)) {
    PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
    return false;
  }
  for (auto it = first.rbegin(); it != first.rend(); ++it) {
    py::ref entry(PyUnicode_DecodeFSDefault(it->c_str()));
    if (!entry) return false;
    for (Py_ssize_t i = PyList_GET_SIZE(path) - 1; i >= 0; --i) {
      const int same = PyObject_RichCompareBool(PyList_GET_ITEM(path, i), entry.get(), Py_EQ);
      if (same < 0) return false;
      if (same == 1 && PySequence_DelItem(path, i) < 0) return false;
    }
    if (PyList_Insert(path, 0, entry.get()) < 0) return false;
  }
  return true;
}

}  // namespace scalekit::serve::wsgi::interpreter
