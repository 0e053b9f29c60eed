#pragma once
// A WSGI response streamed from its application thread to the worker's event
// loop, with back-pressure.
//
//   application thread (host::call)                 event loop
//   stream_sink::start(head)      kept
//   stream_sink::write(piece)     kept, while no application code has run
//                                 since and it is under a pipe's worth
//   flush(), or a pipe's worth ──> deliver(head + pipe_body) ──> the handler's
//                                                                response: head out
//   write(piece) ──> response_pipe::push ─────────────────────> pipe_body::next()
//                    (blocks while `capacity` bytes are            ──> the socket
//                     in flight: a slow client slows the app)
//   end() / abort() ─> the pipe's end / its cut ──────────────> last chunk / the
//                                                                connection cut
//
// A response that ends before any flush (a list or tuple of chunks, or an
// empty body) never meets the pipe: host::call returns and the response goes
// back whole, with a Content-Length, as a buffered one would. Nor does one
// whose body reaches its Content-Length by the first flush (Flask's answers:
// an iterator over one piece): it goes to the loop whole at that flush.
//
// The client going away (net's server watches for it while the body streams,
// also while the app makes its next piece) destroys the pipe_body with the
// response: the next push fails, the host stops iterating and calls the
// result's close(); an app blocked in its own next() learns at its next piece. A
// request past --timeout after its head went out gets its connection cut (a 504
// is no longer possible) and a log line. The loop stopping (loop_gone) ends
// every wait for room, so application threads never outlive the loop waiting.

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "scalekit/net/http.h"
#include "scalekit/serve/wsgi.h"

namespace scalekit::serve {

/// Hands a response (its head and a body stream) to the loop before the
/// application has finished; false when nobody waits for it any more (the
/// request was answered 504, or the loop stopped). Called once at most.
using deliver_fn = std::function<bool(net::http_response)>;

/// What every streamed response of a worker shares. Set before the first
/// request (on the loop's start), read-only afterwards.
struct stream_settings {
  /// Bytes of body in flight per response between the application thread and
  /// the loop (the socket's own buffers come on top). Larger: fewer hand-overs
  /// for fast clients; each slow client may hold this much.
  std::size_t capacity = std::size_t{512} << 10;
  asio::any_io_executor loop;  ///< the worker's event loop
  std::stop_token loop_gone;   ///< requested once the loop has stopped
  /// Called on the loop when a streamed body overran --timeout.
  std::function<void()> on_timeout;
};

class response_pipe;

/// The response_sink of one WSGI call (see above). Used by the application
/// thread that runs host::call, as the sink contract says.
class stream_sink final : public wsgi::response_sink {
 public:
  /// `deadline`: when the body must be complete (--timeout; time_point::max()
  /// for none); `timeout_ms` is what the log line then says.
  stream_sink(const stream_settings& s, const deliver_fn& deliver, std::chrono::steady_clock::time_point deadline,
              long long timeout_ms) noexcept
      : s_(s), deliver_(deliver), deadline_(deadline), timeout_ms_(timeout_ms) {}
  ~stream_sink() override;
  stream_sink(const stream_sink&) = delete;
  stream_sink& operator=(const stream_sink&) = delete;

  bool start(const wsgi::response_head& head) override;
  bool write(std::string_view chunk) override;
  bool sendfile(int fd, std::uint64_t offset, std::uint64_t length) override;
  bool flush() override;
  void end() override;
  void abort() override;

  /// The response went to the loop through deliver (it streamed, or was
  /// meant to): host::call's caller returns nothing more.
  [[nodiscard]] bool delivered() const noexcept { return delivered_; }
  /// The body went to the loop through the pipe, piece by piece (not whole).
  [[nodiscard]] bool streamed() const noexcept { return pipe_ != nullptr; }
  /// The response kept whole (REQUIRES !delivered()): nullopt when it has no
  /// head or did not end well (the caller answers 500: nothing was sent).
  std::optional<net::http_response> take_whole();

 private:
  bool go_streaming();
  bool go_whole();

  const stream_settings& s_;
  const deliver_fn& deliver_;
  std::chrono::steady_clock::time_point deadline_;
  long long timeout_ms_;
  net::http_response whole_;
  std::optional<std::uint64_t> length_;  // the head's Content-Length, given or known
  bool started_ = false, ended_ = false, delivered_ = false, closed_ = false;
  std::shared_ptr<response_pipe> pipe_;
};

/// The head of `h` as net's response: the status, Content-Type apart, the
/// application's other fields but the framing ones (Content-Length,
/// Transfer-Encoding, Connection: the server writes those).
void set_head(net::http_response& out, const wsgi::response_head& h);

}  // namespace scalekit::serve
