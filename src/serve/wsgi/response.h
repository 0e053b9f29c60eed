#pragma once
// One response in flight: the head that start_response() set, what has gone
// to the sink, and the rules for the rest (headers with the first non-empty
// piece of body, never past Content-Length, a 500 or a cut on failure). Every
// sink call and every log line happen with the GIL released.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "file_wrapper.h"
#include "interpreter.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve::wsgi {

/// What a log line says about the request it belongs to.
struct call_context {
  const log_fn* log = nullptr;
  std::string_view app;     ///< "module:callable"
  std::string_view method;  ///< REQUEST_METHOD
  std::string_view target;  ///< the raw request-target
};

/// Not thread-safe by itself: used under the GIL by the call's thread and by
/// the app's write() (from whatever Python thread); busy() keeps two sink calls
/// from overlapping. REQUIRES the GIL for every member function.
class response {
 public:
  struct head {
    int code = 0;
    std::string status;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::uint64_t> content_length;  ///< the app's Content-Length header
  };
  enum class sent { ok, gone, full };

  response(response_sink& sink, const interpreter::gil_clock& clock, const call_context& ctx) noexcept
      : sink_(sink), clock_(clock), ctx_(ctx) {}

  [[nodiscard]] bool head_set() const noexcept { return head_set_; }
  [[nodiscard]] bool head_sent() const noexcept { return head_sent_; }
  /// Replaces the head (start_response, possibly again with exc_info). REQUIRES !head_sent().
  void set_head(head h) {
    head_ = std::move(h);
    head_set_ = true;
  }
  /// A sink call returned false or threw: nothing more goes out.
  [[nodiscard]] bool gone() const noexcept { return gone_; }
  /// The body reached its Content-Length and the app gave more (logged, cut off).
  [[nodiscard]] bool full() const noexcept { return full_; }
  /// A sink call of this response is running (with the GIL released).
  [[nodiscard]] bool busy() const noexcept { return busy_; }
  /// Returns once no sink call of this response runs (polling with the GIL
  /// released: only a write() from another Python thread makes it wait).
  void wait_idle();

  /// The head when not sent yet, then `chunk`, cut to what Content-Length
  /// allows, then sink.flush() (application code follows); an empty chunk
  /// sends nothing. REQUIRES head_set().
  sent send(std::string_view chunk);
  /// The head, every chunk and the end with one release of the GIL (the body
  /// of a list or tuple result, whose length is then known in advance).
  /// REQUIRES head_set().
  outcome send_all(std::span<const std::string_view> chunks);
  /// A file region through sink.sendfile(), cut to Content-Length.
  /// REQUIRES head_set().
  sent send_file(const file_wrapper::file_region& region);
  /// The end: the head if not sent yet, then end(); a 500 or a cut (logged)
  /// when the body fell short of its Content-Length, except for HEAD, 204 and
  /// 304, whose bodies are empty by definition. REQUIRES head_set().
  outcome finish();
  /// The request failed: a log line "<error> (500 sent)" and a 500 when no
  /// head went out; "<error> after a whole response (the response stands)"
  /// and end() when the body reached its Content-Length; else "<error>
  /// (connection cut)" and abort(). Nothing is logged when the client is gone.
  outcome fail(std::string_view error, std::string_view traceback);
  /// One log line about this request, the traceback after it.
  void log(std::string_view what, std::string_view traceback = {});

  [[nodiscard]] call_result result(outcome what) const noexcept { return {what, status_sent_, sent_bytes_}; }

 private:
  // Runs fn without the GIL, marked busy; first waits for another thread's
  // sink call on this response (a write() from an app's own thread) to end.
  template <typename F>
  auto unlocked(F&& fn) {
    wait_idle();
    busy_ = true;
    struct done {
      bool& busy;
      ~done() { busy = false; }
    } clear{busy_};
    return interpreter::without_gil(clock_, std::forward<F>(fn));
  }
  // The *_unlocked functions run without the GIL.
  bool start_unlocked(std::optional<std::uint64_t> known_length);
  sent write_unlocked(std::string_view chunk);
  outcome finish_unlocked();
  outcome fail_unlocked(std::string_view error, std::string_view traceback);
  void log_unlocked(std::string_view what, std::string_view traceback);
  template <typename F>
  bool sink_call(const char* what, F&& fn) noexcept;

  response_sink& sink_;
  const interpreter::gil_clock& clock_;
  const call_context& ctx_;
  head head_;
  bool head_set_ = false;
  bool head_sent_ = false;
  bool gone_ = false;
  bool full_ = false;
  bool busy_ = false;
  int status_sent_ = 0;
  std::uint64_t sent_bytes_ = 0;
};

}  // namespace scalekit::serve::wsgi
