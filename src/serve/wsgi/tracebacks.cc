// dump_tracebacks(): faulthandler's dump of every thread's Python stack, for a
// request that overran its timeout. It must work while the stuck thread holds
// the GIL, so it cannot take the GIL or use the public API (faulthandler's
// dump_traceback() needs the GIL). It calls what faulthandler's own watchdog
// thread calls, _Py_DumpTracebackThreads(): exported by libpython since 3.x
// but declared only in CPython's internal headers (Py_BUILD_CORE), so it is
// declared here. It walks the thread states' frames without locks or
// allocation, as it does after a crash.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "interpreter.h"
#include "py.h"
#include "scalekit/serve/wsgi.h"

extern "C" const char* _Py_DumpTracebackThreads(int fd, PyInterpreterState* interp, PyThreadState* current_tstate);

namespace scalekit::serve::wsgi {

status dump_tracebacks(int fd) {
  PyInterpreterState* interp = interpreter::get();
  if (interp == nullptr) return status::internal("dump_tracebacks: Python has not started");
  // current_tstate nullptr: the function looks up this thread's own state (no GIL needed).
  const char* error = _Py_DumpTracebackThreads(fd, interp, nullptr);
  if (error != nullptr) return status::internal(std::string("dump_tracebacks: ") + error);
  return {};
}

result<std::string> dump_tracebacks() {
  const int fd = ::memfd_create("scalekit-wsgi-tracebacks", MFD_CLOEXEC);
  if (fd < 0) return status::io_error(std::string("dump_tracebacks: memfd_create: ") + std::strerror(errno));
  status s = dump_tracebacks(fd);
  std::string text;
  if (s.ok()) {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    text.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::pread(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    text.resize(done);
  }
  ::close(fd);
  if (!s.ok()) return s;
  return text;
}

}  // namespace scalekit::serve::wsgi
