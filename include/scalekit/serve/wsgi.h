#pragma once
// wsgi: the WSGI host of `scalekit serve` (PEP 3333 on an embedded CPython).
//
// A serve worker process starts the host once, then hands it whole requests
// from its application threads; the host runs the Python application and
// pushes the response into a sink that the worker's event loop implements:
//
//   worker event loop: reads a whole request ──> request (views)
//   application thread: host::call(app, request, sink)
//        takes the GIL ─> environ, wsgi.input, start_response ─> app(environ, start_response)
//        ─> iterate the result ──(GIL released)──> sink.start(head) once, sink.write(chunk)...,
//                                                  sink.sendfile(fd, off, len), sink.end() | abort()
//        ─> result.close() (always) ─> releases the GIL
//
// The interface knows nothing of scalekit's HTTP types: the request is a set of
// views, the response a virtual sink, so the worker may buffer or stream.
//
// Failures: an application that raises, never calls start_response, returns a
// str where bytes are required, or gives a bad status or header costs that one
// request: a 500 when no header was sent yet (else sink.abort(): the client
// must not mistake a cut body for a whole one), and ONE log line naming the app
// and the error, followed by the Python traceback when there is one. The
// process keeps serving.
//
// Thread safety: host::call() and the statistics may be called from any number
// of threads at once; the interpreter serialises Python code with its GIL, which
// the host releases around every sink call and between calls.
//
// This header does not include Python.h; only the scalekit-serve executable
// links this library (and libpython).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scalekit/core/status.h"

namespace scalekit::serve::wsgi {

/// One header field as received or as the application gave it.
struct header_field {
  std::string_view name;
  std::string_view value;
};

/// A whole request, as the worker read it. Every view must stay valid until
/// call() returns; the host copies what Python keeps (wsgi.input refuses reads
/// once call() has returned).
struct request {
  std::string_view method = "GET";             ///< REQUEST_METHOD
  std::string_view target = "/";               ///< the raw request-target: REQUEST_URI and RAW_URI
  std::string_view path = "/";                 ///< the target's path, still percent-encoded
  std::string_view query;                      ///< what follows '?' ("" when none): QUERY_STRING
  std::string_view version = "HTTP/1.1";       ///< SERVER_PROTOCOL
  std::span<const header_field> headers;       ///< in the order received; repeats allowed
  std::string_view body;                       ///< the whole body, de-chunked
  std::string_view remote_addr = "127.0.0.1";  ///< REMOTE_ADDR
  std::uint16_t remote_port = 0;               ///< REMOTE_PORT
  std::string_view server_name = "localhost";  ///< SERVER_NAME
  std::uint16_t server_port = 80;              ///< SERVER_PORT
  std::string_view url_scheme = "http";        ///< wsgi.url_scheme
};

/// The status line and headers of a response, given to the sink once.
struct response_head {
  int status_code = 200;                  ///< 200..599
  std::string_view status;                ///< "200 OK", as the application gave it (validated)
  std::span<const header_field> headers;  ///< the application's, validated, in its order
  /// The body's length when known before the body: the application's
  /// Content-Length header (also among `headers`), or, without one, the total
  /// of a list or tuple result (then the sink may add a Content-Length header
  /// rather than chunk the body). nullopt: unknown, the body ends with end().
  std::optional<std::uint64_t> content_length;
};

/// Where a response goes; the worker implements it. The host calls, in order:
/// start() exactly once (unless the request ends in abort() before any header
/// was sent), write()/sendfile() for each piece of body (flush() after those
/// the application code follows), then end() or abort().
/// After a call returns false (the client went away), the host calls no other
/// method. Calls come from the application thread that runs call(), never two
/// at once for one request, and always without the GIL, so a sink may block.
/// Views and descriptors are valid only during the call: a sink that sends
/// later copies the bytes or dup()s the descriptor. A sink should not throw; if
/// it does, the host treats it as a client that went away and logs the reason.
class response_sink {
 public:
  virtual ~response_sink() = default;
  /// The head; false: the client went away.
  virtual bool start(const response_head& head) = 0;
  /// A non-empty piece of body; false: the client went away.
  virtual bool write(std::string_view chunk) = 0;
  /// `length` bytes of the regular file `fd` from `offset` (wsgi.file_wrapper);
  /// the file may be shorter than that only if it shrank meanwhile. The default
  /// reads them with pread() and passes them to write(). false: the client went
  /// away, or the file could not be read.
  virtual bool sendfile(int fd, std::uint64_t offset, std::uint64_t length);
  /// The host is about to run application code again (the next item of an
  /// iterable, also after an empty one once the head is out, or back from the
  /// write() callable): what was written should reach the client now rather
  /// than wait for more. Not called between the
  /// pieces of a list or tuple result, nor before end(): a sink may keep such a
  /// body whole and send it in one go. The default does nothing (a sink that
  /// sends each write at once). false: the client went away.
  virtual bool flush() { return true; }
  /// The response is complete.
  virtual void end() = 0;
  /// The response cannot be completed (an error after the head was sent, or a
  /// body shorter than its Content-Length): cut the connection.
  virtual void abort() = 0;
};

/// Which application, by its index in host_options::apps.
using app_id = std::size_t;

/// `MODULE:CALLABLE` served under a mount prefix.
struct app_spec {
  /// "package.module:callable" (the callable may be a dotted attribute path,
  /// "module:obj.app"; without ":CALLABLE" it is "application").
  std::string target;
  /// URL prefix: "" (or "/") for the root, else "/prefix" without a trailing
  /// slash (one is removed). It becomes SCRIPT_NAME; the rest of the path PATH_INFO.
  std::string mount;
};

/// Whether `app` is well formed, as far as words go: the target's
/// MODULE[:CALLABLE] shape and the mount (no Python is started). host::start
/// checks the same first; a command line checks it to refuse a bad app as bad
/// usage before any worker starts. Thread-safe.
status check_spec(const app_spec& app);

/// A log message: one line naming the app and the error, then (possibly empty)
/// the Python traceback, lines ending in '\n'. Called from application threads,
/// concurrently, without the GIL.
using log_fn = std::function<void(std::string_view line, std::string_view traceback)>;

struct host_options {
  std::vector<app_spec> apps;
  /// Directory to change into before importing (--chdir); it also becomes
  /// sys.path's first entry after --pythonpath. "": the current directory.
  std::string chdir;
  /// Directories put first on sys.path, in this order (--pythonpath).
  std::vector<std::string> pythonpath;
  /// Application threads that will call call() (--threads): wsgi.multithread is
  /// true when more than one.
  std::size_t threads = 1;
  /// wsgi.multiprocess: true when several worker processes serve the same apps.
  bool multiprocess = false;
  /// sys.argv[0].
  std::string argv0 = "scalekit-serve";
  /// Where the interpreter finds its prefix (/usr: the standard library and
  /// Debian's dist-packages) and what sys.executable says, so an application
  /// that starts `sys.executable` gets Python, not the server.
  std::string program_name = "/usr/bin/python3";
  /// Error lines; default: both parts to stderr in one write.
  log_fn log;
};

/// What one call did, for the worker's log and metrics.
enum class outcome {
  ok,           ///< the response was sent whole (whatever its status)
  app_error,    ///< the application failed before any header was sent: a 500 was sent
  cut,          ///< it failed, or sent too little, after the head: the sink was aborted
  client_gone,  ///< a sink call returned false (or threw): the rest was dropped
};

struct call_result {
  outcome what = outcome::ok;
  int status_code = 0;           ///< the status sent (500 for app_error; 0 when no head was sent)
  std::uint64_t body_bytes = 0;  ///< body bytes handed to the sink
  /// This call's waits for the GIL (the first, and after each send): not the
  /// app's own time, so a call that only waited is not a slow app.
  std::chrono::nanoseconds gil_wait{};
};

/// A whole response in memory: what host::call(app, req) returns, for a
/// worker that sends a response only once it is complete, and for tests.
struct buffered_response {
  call_result result;                                        ///< as the sink form returns it
  int status_code = 0;                                       ///< 0 when no head was given (the client went away first)
  std::string status;                                        ///< "200 OK"
  std::vector<std::pair<std::string, std::string>> headers;  ///< the application's, in its order
  std::optional<std::uint64_t> content_length;               ///< as response_head::content_length
  /// Every piece of body (a wsgi.file_wrapper's file read in). When
  /// result.what is outcome::cut it is a part only: the worker must not send
  /// it as a whole response (answer 500 or close the connection instead).
  std::string body;
};

/// Counters of one application (a snapshot; each field is exact, the set is
/// not taken atomically).
struct app_stats {
  std::uint64_t calls = 0;
  std::uint64_t app_errors = 0;   ///< outcome::app_error
  std::uint64_t cut = 0;          ///< outcome::cut
  std::uint64_t client_gone = 0;  ///< outcome::client_gone
  /// Time application threads waited to take the GIL for this app: at the
  /// start of each call and after each sink call. (Waits inside Python code,
  /// where the interpreter itself switches threads every 5 ms, are invisible to
  /// an embedder and not included.)
  std::chrono::nanoseconds gil_wait{0};
  std::chrono::nanoseconds gil_wait_max{0};  ///< the longest single wait
};

/// wsgi.errors, every request's (one stream per process): a line longer than
/// this many bytes is cut there, ending with a marker that says how many
/// bytes were cut off (counted in errors_stats).
inline constexpr std::size_t max_errors_line = 16 * 1024;
/// wsgi.errors lets this many bytes out at once, then errors_rate_per_second:
/// whole lines over that are dropped (counted), and the next line that goes
/// out follows one that says how many were.
inline constexpr std::size_t errors_rate_burst = std::size_t{8} << 20;
inline constexpr std::size_t errors_rate_per_second = std::size_t{1} << 20;

/// What wsgi.errors wrote and dropped in this process, all apps together.
struct errors_stats {
  std::uint64_t lines = 0;          ///< lines written to stderr (each with one write)
  std::uint64_t cut_lines = 0;      ///< of those, lines cut at max_errors_line
  std::uint64_t cut_bytes = 0;      ///< the bytes cut off them
  std::uint64_t dropped_lines = 0;  ///< whole lines dropped over the rate
  std::uint64_t dropped_bytes = 0;  ///< their bytes
};
/// A snapshot (each field exact, the set not taken atomically). Thread-safe; takes no GIL.
errors_stats error_stream_stats() noexcept;

/// The WSGI applications of one process, on the process's one interpreter.
class host {
 public:
  /// Initialises CPython, once per process (later calls reuse it, as tests
  /// do): the prefix of `program_name` (Debian's /usr: the standard library and
  /// dist-packages), PYTHON* environment variables honoured, no signal handler
  /// installed (the server owns signals: SIGINT, SIGPIPE and the others keep
  /// their dispositions), unbuffered stdout/stderr, no locale coercion (it
  /// would setenv in a threaded process). Then changes into `chdir`, puts
  /// `pythonpath` and `chdir` first on sys.path, imports each application and
  /// checks it is callable. Returns with the GIL released.
  ///
  /// Errors: invalid_argument for a bad target or mount (empty, duplicate,
  /// no leading '/'); io_error when chdir fails; not_found when an app cannot
  /// be imported, lacks its callable or it is not callable: the status says so
  /// in one line ("cannot load wsgi app 'mod:app': ModuleNotFoundError: No
  /// module named 'mod'"), and the same line with the traceback has gone to
  /// options.log. internal when the interpreter cannot start.
  /// REQUIRES: the calling thread does not hold the GIL.
  static result<std::unique_ptr<host>> start(host_options options);

  /// Takes the GIL to drop the applications. The interpreter stays (CPython
  /// cannot be finalised and started again reliably; the process exit ends it).
  /// REQUIRES: no call() is running.
  ~host();
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  /// The application whose mount is the longest prefix of `path` (as in
  /// request::path; compared once percent-decoded, as PATH_INFO is split) on a
  /// segment boundary: "/api" serves "/api" and "/api/x", not "/apix".
  /// nullopt when no app is mounted there.
  /// Thread-safe; takes no GIL.
  [[nodiscard]] std::optional<app_id> find_app(std::string_view path) const;

  /// Runs application `app` for `req` and sends the response into `sink`
  /// (see response_sink for the order of calls). Blocks this thread for the
  /// whole request. Never throws, whatever the application does: failures are
  /// in the result, the log and the statistics.
  ///
  /// The environ holds every CGI variable of PEP 3333 (SCRIPT_NAME is the
  /// app's mount, PATH_INFO the percent-decoded rest of the path, as latin-1
  /// "native strings"), HTTP_* for each header (repeats joined with ", ",
  /// Cookie with "; "; names containing '_' dropped, since they would alias
  /// the '-' spelling; Transfer-Encoding dropped: the body is already
  /// de-chunked and CONTENT_LENGTH is its length), REMOTE_PORT, REQUEST_URI,
  /// RAW_URI, and wsgi.version (1, 0), url_scheme, input (read, readline,
  /// readlines, iteration, readinto), errors (whole lines to stderr, bounded:
  /// max_errors_line, errors_rate_burst), multithread,
  /// multiprocess, run_once (False), file_wrapper, input_terminated (True).
  ///
  /// The response: headers go with the first non-empty piece of body (or at
  /// the end for an empty one); never more than Content-Length bytes (an
  /// excess is cut off and logged); fewer is logged and aborts the sink;
  /// result.close() is called in every case that produced a result; a
  /// wsgi.file_wrapper around a regular file goes out through sink.sendfile().
  ///
  /// Thread-safe. REQUIRES: app < apps.size(); the calling thread does not hold
  /// the GIL (it is not inside Python code). Each calling thread gets a Python
  /// thread state on its first call, kept until it exits.
  call_result call(app_id app, const request& req, response_sink& sink);

  /// The same, kept whole in memory: the body grows as large as the
  /// application makes it, so a worker that serves large or endless bodies
  /// passes a sink that streams instead. Never throws but std::bad_alloc.
  /// Thread-safe; same REQUIRES as above.
  buffered_response call(app_id app, const request& req);

  [[nodiscard]] std::size_t app_count() const noexcept { return apps_.size(); }
  /// The app's `MODULE:CALLABLE` and its normalised mount ("" for the root).
  [[nodiscard]] const app_spec& app(app_id id) const { return apps_.at(id).spec; }
  /// Thread-safe snapshot of one app's counters.
  [[nodiscard]] app_stats stats(app_id id) const;

 private:
  host() = default;
  struct counters {
    std::atomic<std::uint64_t> calls{0}, app_errors{0}, cut{0}, client_gone{0};
    std::atomic<std::uint64_t> gil_wait_ns{0}, gil_wait_max_ns{0};
  };
  struct app_entry {
    app_spec spec;
    void* callable = nullptr;  // PyObject*, a strong reference
    std::unique_ptr<counters> stats = std::make_unique<counters>();
  };
  host_options options_;
  std::vector<app_entry> apps_;
};

/// Writes the Python stack of every thread of the interpreter to `fd`, as
/// faulthandler does ("Thread 0x<pthread_self() in hex> (most recent call
/// first):", then `  File "f.py", line N in func` per frame; when the calling
/// thread has a Python thread state, it is "Current thread"). Takes no GIL and allocates
/// nothing: safe from any thread, including one that never ran Python, while
/// another thread holds the GIL (what a request that overran its timeout
/// usually does). Like faulthandler's, it reads the other threads' frames
/// without their cooperation, so a frame that changes meanwhile may print
/// oddly. The dump itself is async-signal-safe (faulthandler calls the same
/// function from its signal handlers), so a worker may also call it from a
/// handler of a signal its master sends (only a failure allocates, for its
/// status). Errors: internal when the interpreter has not started.
status dump_tracebacks(int fd);
/// The same into a string (through a memfd).
result<std::string> dump_tracebacks();

}  // namespace scalekit::serve::wsgi
