#pragma once
// Inside a serve worker: handing blocking work to threads from the event loop,
// and the native endpoints.

#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/thread_pool.h"
#include "scalekit/net/http.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/serve.h"
#include "wsgi_stream.h"

namespace scalekit::jobs::mandelbrot {
struct params;
}

namespace scalekit::serve {

/// What offload_within gives back: fn's result (nullopt when fn threw, or when
/// the task was cancelled), or `expired`: the deadline came first.
template <typename T>
struct offloaded {
  std::optional<T> value;
  bool expired = false;
};

/// Run `fn` on one of `pool`'s threads (app_threads, core::thread_pool) and resume the calling task on its loop
/// with the result; nullopt when fn threw, or when the task was cancelled:
/// then the task resumes at once, and the result of a function still running
/// is dropped when it ends. With a `deadline` (a timer of the loop, set, that
/// outlives the call), the task resumes when it expires if fn has not given
/// its result by then (`expired`), the result likewise dropped. The loop
/// counts the call (core::wait_for_calls) until the function has returned.
/// (A deadline costs one timer; racing a timer with `||` cost two coroutines
/// and, with use_awaitable, an exception per request whose answer won.)
/// `again` (if given) is asked on the loop each time the deadline's timer
/// expires: a later time to wait until instead of expiring now, or nullopt
/// to expire (--queue-wait looks at a waiting request so, then at --timeout).
///
/// A function that takes a `const std::function<bool(T)>& early` may hand its
/// result over before it returns (a streamed response: the head now, the body
/// still being made on the thread); it then returns std::optional<T> (nullopt
/// when it handed it over). `early` returns false when nobody waits any more
/// (cancelled, or past the deadline). Called once at most.
using expiry_again = std::function<std::optional<std::chrono::steady_clock::time_point>()>;

template <typename T, typename Pool, typename F>
core::task<offloaded<T>> offload_within(Pool& pool, F fn, asio::steady_timer* deadline, expiry_again again = {}) {
  auto loop = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(offloaded<T>)>(
      [&pool, loop](auto handler, F f, asio::steady_timer* timer, expiry_again more) {
        using handler_t = decltype(handler);
        // The handler is taken once: by the result, the deadline or a cancellation, whichever comes first.
        struct shared {
          std::mutex mutex;
          std::optional<handler_t> h;
          std::optional<handler_t> take() {
            std::scoped_lock lock(mutex);
            auto out = std::move(h);
            h.reset();
            return out;
          }
          bool waiting() {
            std::scoped_lock lock(mutex);
            return h.has_value();
          }
        };
        auto st = std::make_shared<shared>();
        auto slot = asio::get_associated_cancellation_slot(handler);
        st->h.emplace(std::move(handler));
        if (slot.is_connected()) {
          slot.assign([st, loop](asio::cancellation_type) {
            if (auto h = st->take()) asio::post(loop, [h = std::move(*h)]() mutable { std::move(h)(offloaded<T>{}); });
          });
        }
        // The timer's wait, made again while `again` says so (the timer outlives the call).
        struct expiry {
          std::shared_ptr<shared> st;
          asio::any_io_executor ex;
          asio::steady_timer* timer;
          expiry_again again;
          void operator()(const asio::error_code& ec) {
            // Cancelled, or the result came first: the task may have resumed and
            // destroyed the timer (its expiry was queued before the result).
            if (ec || !st->waiting()) return;
            if (again) {
              if (auto later = again()) {
                timer->expires_at(*later);
                timer->async_wait(std::move(*this));
                return;
              }
            }
            if (auto h = st->take())
              asio::post(ex, [h = std::move(*h)]() mutable { std::move(h)(offloaded<T>{std::nullopt, true}); });
          }
        };
        if (timer != nullptr) timer->async_wait(expiry{st, loop, timer, std::move(more)});
        auto& calls = asio::use_service<core::detail::outstanding_calls>(asio::query(loop, asio::execution::context));
        calls.begin();
        pool.detach([st, loop, &calls, f = std::move(f)]() mutable {
          offloaded<T> r;
          try {
            if constexpr (std::is_invocable_v<F&, const std::function<bool(T)>&>) {
              const std::function<bool(T)> early = [&st, &loop](T v) {
                auto h = st->take();
                if (!h) return false;
                asio::post(loop, [h = std::move(*h), v = std::move(v)]() mutable {
                  std::move(h)(offloaded<T>{std::move(v)});
                });
                return true;
              };
              r.value = f(early);
            } else {
              r.value.emplace(f());
            }
          } catch (...) {
          }
          if (auto h = st->take())
            asio::post(loop, [h = std::move(*h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
          calls.end();
        });
      },
      asio::use_awaitable, std::move(fn), deadline, std::move(again));
}

/// offload_within without a deadline: fn's result, nullopt when it threw or
/// the task was cancelled.
template <typename T, typename Pool, typename F>
core::task<std::optional<T>> offload(Pool& pool, F fn) {
  auto r = co_await offload_within<T>(pool, std::move(fn), nullptr);
  co_return std::move(r.value);
}

namespace wsgi {
class host;
enum class outcome;
}  // namespace wsgi

/// The WSGI applications of a worker (--wsgi): CPython started in the worker,
/// each request called on an application thread (wsgi_apps.cc). Thread-safe.
class wsgi_apps {
 public:
  /// Starts the interpreter and imports every app: invalid_argument naming
  /// the app that cannot be loaded. Messages (app errors, tracebacks) go to
  /// `obs`; the time threads wait for the GIL, to `slot` (in all and by app).
  static result<std::unique_ptr<wsgi_apps>> start(const options& o, core::observer& obs, worker_slot* slot);
  ~wsgi_apps();
  /// The app whose mount is the longest prefix of `path`.
  [[nodiscard]] std::optional<std::size_t> find(std::string_view path) const;
  /// Run the app on this thread. Its response goes to the loop through
  /// `deliver` once it streams (its body follows until the app has finished:
  /// wsgi_stream.h), and nullopt is returned; a response complete before it
  /// had to stream is returned whole (a 500 when the app failed). `deadline`
  /// (--timeout of `timeout_ms`) bounds a streamed body. `streamed` (if
  /// given) is set to whether the body went piece by piece (not whole),
  /// `gil_wait` (if given) to the call's waits for the GIL.
  std::optional<net::http_response> call(std::size_t app, const net::http_request& req, std::string_view path,
                                         std::string_view query, const stream_settings& s, const deliver_fn& deliver,
                                         std::chrono::steady_clock::time_point deadline, long long timeout_ms,
                                         bool* streamed = nullptr, std::chrono::nanoseconds* gil_wait = nullptr);

 private:
  wsgi_apps();
  /// A call's outcome, its app's GIL wait and wsgi.errors' losses into slot_.
  void publish(std::size_t app, wsgi::outcome what);
  std::unique_ptr<wsgi::host> host_;
  std::string server_name_;
  std::uint16_t server_port_ = 0;
  worker_slot* slot_ = nullptr;
  // The host's counters as far as slot_ has them (add_growth in wsgi_apps.cc).
  std::unique_ptr<std::atomic<std::uint64_t>[]> gil_seen_;  // by app
  std::atomic<std::uint64_t> errors_cut_seen_{0}, errors_dropped_seen_{0};
};

/// The print of the Python tracebacks of every application thread, to stderr
/// (a request overran --timeout). Nothing without WSGI apps. Async-signal-safe
/// it is not: call it from a thread (the signal waiter).
void dump_application_tracebacks();

/// scalekit's own endpoints. Thread-safe after start().
class native_endpoints {
 public:
  native_endpoints(const scoreboard& board, const options& o) : board_(board), o_(o) {}
  /// Makes the jobs' executor (the distributed one logs broker trouble to `log`).
  status start(std::function<void(const std::string&)> log = {});
  void stop();
  /// Whether the GET answer of `path` depends on its URL alone (tiles,
  /// primes): the worker's cache may keep it.
  static bool cacheable(std::string_view path) { return path == "/mandelbrot.png" || path == "/primes"; }
  /// The answers cheap enough for the loop (/healthz, /status, /metrics,
  /// /executors: the executors a tile may ask for); nullopt: not one of them.
  std::optional<net::http_response> answer_on_loop(std::string_view path, std::string_view query) const;
  /// Any other request, on an application thread: /mandelbrot.png, /primes,
  /// /sleep, POST /sort, POST /thumbnail, or 404. A tile may name its executor
  /// (&executor=serial|threads|processes|openmp, distributed with --broker, or
  /// the server's own --executor), so the explorer can compare them on the
  /// same view; X-Computed-By names the processes (distributed workers) that
  /// computed its rows. On the distributed executor, /primes and /sort run
  /// there too, and a request whose results do not come within
  /// --broker-timeout is answered 504 (503 when no worker is alive or the
  /// broker does not answer), with a body that says so; 503 at once while
  /// the broker has not taken --broker-backlog tasks yet.
  net::http_response answer(std::string_view method, std::string_view path, std::string_view query,
                            std::string_view body);

 private:
  /// The executor a request asks for (made at its first use), or nullptr when it may not choose that one.
  core::executor* executor_named(std::string_view name);
  std::unique_ptr<core::executor> make_executor(core::executor_kind kind) const;
  /// A job's failure as the reply: the distributed workers' trouble (503/504) or a 500.
  net::http_response failure(const status& why) const;
  /// POST /thumbnail: an image to a PNG thumbnail, in o_.thumbnailer's processes.
  net::http_response thumbnail_answer(std::string_view method, std::string_view query, std::string_view body);

  const scoreboard& board_;
  const options& o_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<core::executor> jobs_;
  std::mutex others_mutex_;
  std::vector<std::pair<core::executor_kind, std::unique_ptr<core::executor>>> others_;  // guarded by others_mutex_
  std::unique_ptr<core::executor> thumbnails_;  // made at the first POST /thumbnail (guarded by others_mutex_)
};

/// The tile a /mandelbrot.png query asks for (w, h, n, x0, y0, x1, y1, or the
/// explorer's z, x, y) into `p`, checked as the endpoint checks it; or the
/// refusal to answer (400, 413).
std::optional<net::http_response> tile_params(std::string_view query, jobs::mandelbrot::params& p);

/// --degrade: the tile `query` asks for, made cheaply: at most coarse_side
/// pixels a side, scaled up to the size asked in blocks, iterations capped at
/// coarse_iterations (points still inside then get the colour of the
/// iterations asked, so the set keeps its colour); marked "X-Degraded:
/// coarse" and never cached. The refusal the full tile would get for a bad query.
inline constexpr std::uint32_t coarse_side = 64, coarse_iterations = 256;
net::http_response coarse_tile(std::string_view query);

/// The scoreboard as JSON (/status) and as Prometheus text (/metrics).
std::string status_json(const scoreboard& board, const std::vector<app_mount>& apps = {});
std::string metrics_text(const scoreboard& board, const std::vector<app_mount>& apps = {});

}  // namespace scalekit::serve
