// serve's worker: net's HTTP server on the listening sockets the master
// passed, the native endpoints, blocking work on application threads, its
// slot of the scoreboard; on SIGTERM it stops accepting, finishes what it
// holds and leaves.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app_threads.h"
#include "counted_body.h"
#include "loop_relay.h"
#include "queue_wait.h"
#include "response_cache.h"
#include "scalekit/core/async.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/signals.h"
#include "scalekit/core/thread_pool.h"
#include "scalekit/net/http.h"
#include "scalekit/net/http_server.h"
#include "scalekit/serve/scoreboard.h"
#include "scalekit/serve/serve.h"
#include "scalekit/serve/web/assets.h"
#include "scalekit/serve/web/fleet.h"
#include "serve_detail.h"
#include "shared_cache.h"
#include "web/broker_watch.h"
#include "web/events.h"
#include "worker_detail.h"

namespace scalekit::serve {

namespace {

using namespace std::chrono_literals;

struct worker_identity {
  std::uint32_t slot = 0;
  std::uint64_t generation = 0;
  int sockets = 0;
  int master = 0;
};

std::optional<worker_identity> identity_from_environment() {
  const char* v = std::getenv(worker_env_name);
  if (v == nullptr) return std::nullopt;
  worker_identity id;
  if (std::sscanf(v, "%u:%lu:%d:%d", &id.slot, &id.generation, &id.sockets, &id.master) != 4) return std::nullopt;
  return id;
}

// A request's record in the scoreboard, ended by whoever holds it last: the
// loop once the answer is sent, or the application thread still running a
// request answered 504, so that the master sees it stuck and replaces the worker.
struct request_record {
  request_record(worker_slot& s, int r) : slot(s), record(r) {}
  ~request_record() { slot.end_request(record); }
  request_record(const request_record&) = delete;
  request_record& operator=(const request_record&) = delete;
  worker_slot& slot;
  int record;
};

// A WSGI app that has been quick is run on the loop's thread, between two of
// its handlers (loop_relay), while the worker is lightly loaded (an
// application thread's place is free and nothing waits for one). Quick is a
// score: a call that took at most `quick_bound` and answered whole (nothing
// streamed) adds 1, up to `quick_cap`; a slower one takes `quick_slow_cost`
// off; a streamed one takes it all. The app's calls run on the loop while
// its score is at least `quick_score`: 16 quick calls to earn it, and once
// earned in full, one slow call is forgiven until 16 quick ones have made up
// for it. A call's time is wall time, and a busy machine preempts some quick
// calls past the bound (two workers sharing one core cut a Flask hello's
// calls so at each switch); zeroing the app's score for each sent a third of
// its calls through the application threads and Python's GIL
// (docs/BENCHMARKS.md, "a slow call forgiven"). A call that is slow for good
// holds the loop up for a period of loop_relay's watcher (2 ms) twice at
// most, then its app's calls are handed off.
inline constexpr std::chrono::microseconds quick_bound{1000};
inline constexpr std::uint32_t quick_score = 16, quick_cap = 2 * quick_score, quick_slow_cost = quick_score;

// Work on the loop's thread, in an application thread's place (offload_within's pool).
struct relayed_pool {
  loop_relay& relay;
  app_threads& threads;
  void detach(std::function<void()> task) {
    relay.run_next([&t = threads, task = std::move(task)] {
      task();
      t.release();
    });
  }
};

class worker {
 public:
  worker(const options& o, core::observer& obs, scoreboard board, worker_identity id)
      : o_(o),
        obs_(obs),
        board_(std::move(board)),
        id_(id),
        slot_(board_.slot(id.slot)),
        app_threads_(o.threads),
        endpoints_(board_, o) {}

  result<core::report> run();

 private:
  core::task<net::http_response> handle(const net::http_request& req);
  core::task<net::http_response> answer(const net::http_request& req, std::string path, std::string query,
                                        std::shared_ptr<request_record> record, std::uint64_t id);
  using thread_work = std::function<std::optional<net::http_response>(const deliver_fn&)>;
  using clock = std::chrono::steady_clock;
  bool run_here(std::optional<std::size_t> app);
  void learn(std::size_t app, clock::duration took, bool whole);
  thread_work on_thread(std::optional<std::size_t> app, const net::http_request& req, std::string path,
                        std::string query, std::string cache_key, std::shared_ptr<request_record> record,
                        clock::time_point deadline, std::shared_ptr<queue_wait::ticket> ticket);
  expiry_again queue_watch(std::shared_ptr<queue_wait::ticket> ticket, clock::time_point deadline);
  core::task<net::http_response> refuse(const net::http_request& req, const std::string& path,
                                        const std::string& query);
  core::task<std::optional<net::http_response>> cached(const std::string& key, bool degraded);
  core::task<std::optional<net::http_response>> degraded(const net::http_request& req, const std::string& path,
                                                         const std::string& query);
  core::task<void> heartbeat();
  core::task<void> sample_fleet();
  static net::http_response not_modified_or(const net::http_request& req, net::http_response r);

  const options& o_;
  core::observer& obs_;
  scoreboard board_;
  worker_identity id_;
  worker_slot& slot_;
  app_threads app_threads_;                // --threads: wakes a second thread only for work that waits
  loop_relay relay_{&slot_.loop_rescues};  // --wsgi: the loop on two threads, quick calls run between its handlers
  relayed_pool relayed_{relay_, app_threads_};
  std::unique_ptr<std::atomic<std::uint32_t>[]> quick_;  // per app: its score of quick, whole calls
  native_endpoints endpoints_;
  std::unique_ptr<wsgi_apps> apps_;  // --wsgi: started in run(), before the first request
  response_cache cache_{o_.cache_mb << 20};
  std::unique_ptr<shared_cache> shared_;            // --cache: made on the loop, gone before it (on_stop)
  std::optional<core::thread_pool> coarse_thread_;  // --degrade: draws coarse tiles
  std::atomic<std::uint32_t> coarse_waiting_{0};
  std::uint64_t next_id_ = 1;                  // the loop's thread only
  std::atomic<std::uint32_t> waiting_{0};      // requests waiting for an application thread
  std::optional<queue_wait> waits_;            // --queue-wait: how long they may wait
  web::fleet_history fleet_;                   // the whole server's rates, for /fleet (the loop's thread only)
  std::unique_ptr<web::broker_watch> broker_;  // --broker: its workers, for /fleet
  stream_settings stream_;                     // streamed WSGI bodies: set on the loop's start
  std::stop_source loop_gone_;                 // the loop has stopped: streamed bodies stop waiting for it
};

// An embedded page or its script (/, /fleet, /web/...); nullopt when `path` names none.
std::optional<net::http_response> embedded_page(std::string_view path) {
  const web::asset* a = web::find_asset(path);
  if (a == nullptr) return std::nullopt;
  net::http_response r;
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->body);
  r.headers.push_back({"ETag", std::string(a->etag)});
  r.headers.push_back({"Cache-Control", "no-cache"});  // revalidated (304) at each load: a new build shows at once
  return r;
}

// A cached answer, with the level it came from (X-Cache: hit, redis) and, for
// an overloaded worker, "X-Degraded: cached".
net::http_response mark_cached(net::http_response r, const char* level, bool degraded) {
  r.headers.push_back({"X-Cache", level});
  if (degraded) r.headers.push_back({"X-Degraded", "cached"});
  return r;
}

// Made outside the coroutines (see worker::on_thread).
std::function<net::http_response()> coarse_work(std::string query) {
  return [q = std::move(query)] { return coarse_tile(q); };
}

net::http_response plain(int status, std::string body) {
  net::http_response r;
  r.status = status;
  r.body = std::move(body);
  if (status == 503) r.headers.push_back({"Retry-After", "1"});
  return r;
}

// One request: recorded in the scoreboard while it runs, shed when the
// application threads are too far behind.
core::task<net::http_response> worker::handle(const net::http_request& req) {
  const std::string_view target = req.target;
  const auto q = target.find('?');
  std::string path(target.substr(0, q));
  std::string query(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  const bool loop_feed = path == "/fleet/events";
  const std::uint64_t id = (std::uint64_t{id_.slot} << request_id_slot_shift) | next_id_++;
  const std::int64_t t0 = monotonic_ns();
  auto record = std::make_shared<request_record>(slot_, slot_.begin_request(id, req.method, path));
  slot_.in_flight.fetch_add(1);
  net::http_response resp;
  // The server's own state (/healthz, /status, /metrics) is answered on the
  // loop even when the threads are behind: a health check must see an
  // overloaded worker as alive, and the metrics must show the overload.
  std::optional<net::http_response> own;
  if (req.method == "GET" || req.method == "HEAD") own = endpoints_.answer_on_loop(path, query);
  if (own) {
    resp = std::move(*own);
  } else if (waiting_.load() >= o_.queue) {
    // Graceful degradation: a full queue answers at once instead of piling up.
    resp = co_await refuse(req, path, query);
  } else {
    resp = co_await answer(req, std::move(path), std::move(query), std::move(record), id);
  }
  // Counted: the status and the time until the head is ready; the body's
  // bytes: a whole one's now, as handed to the server (none for HEAD), a
  // streamed one's as the server writes them (counted_body). A streamed body
  // from an application thread keeps its request in flight until it ends
  // (the thread is busy with it); the dashboard's own feed, made on the loop,
  // does not.
  std::uint64_t body_bytes = req.method == "HEAD" ? 0 : resp.body.size();
  if (resp.stream) {
    body_bytes = 0;
    resp.stream = std::make_shared<counted_body>(std::move(resp.stream), slot_, !loop_feed);
    if (loop_feed) slot_.in_flight.fetch_sub(1);
  } else {
    slot_.in_flight.fetch_sub(1);
  }
  slot_.count_response(resp.status, monotonic_ns() - t0, body_bytes);
  co_return resp;
}

core::task<net::http_response> worker::answer(const net::http_request& req, std::string path, std::string query,
                                              std::shared_ptr<request_record> record, std::uint64_t id) {
  // The WSGI app mounted over the path, then the pages, then scalekit's jobs (the server's own state: handle).
  const bool reading = req.method == "GET" || req.method == "HEAD";
  const std::optional<std::size_t> app = apps_ ? apps_->find(path) : std::nullopt;
  // The pages, where no WSGI app is mounted over them; their live feed stays on the loop.
  if (!app && reading) {
    if (path == "/fleet/events") co_return web::fleet_events(board_, fleet_, broker_.get(), obs_.stop_token(), 500ms);
    if (auto page = embedded_page(path)) co_return not_modified_or(req, std::move(*page));
  }
  const bool posted_to = path == "/sort" || path == "/thumbnail";  // their answers say POST themselves
  if (!app && !reading && !(req.method == "POST" && posted_to)) {
    if (posted_to) co_return endpoints_.answer(req.method, path, query, req.body);  // 405, Allow: POST
    auto r = plain(405, "only GET and HEAD here\n");
    r.headers.push_back({"Allow", "GET, HEAD"});
    co_return r;
  }
  // Jobs' answers that depend on the URL alone come from the cache when they can.
  std::string cache_key;
  if (!app && reading && (o_.cache_mb > 0 || shared_) && native_endpoints::cacheable(path)) {
    cache_key = path + "?" + query;
    if (auto hit = co_await cached(cache_key, false)) co_return not_modified_or(req, std::move(*hit));
  }
  // The rest on an application thread, so the loop never computes and a slow
  // request never holds another one up; within --timeout (the loop's own
  // answers above need no timer).
  waiting_.fetch_add(1);
  slot_.queued.fetch_add(1);
  const auto now = clock::now();
  const auto deadline = o_.timeout.count() > 0 ? now + o_.timeout : clock::time_point::max();
  std::shared_ptr<queue_wait::ticket> ticket;
  if (waits_) ticket = waits_->enter(now);
  auto work = on_thread(app, req, path, query, cache_key, std::move(record), deadline, ticket);
  // The deadline is a timer on the hand-off itself (offload_within); with
  // --queue-wait it looks first at how long the request has waited.
  std::optional<asio::steady_timer> timer;
  const auto first = ticket ? std::min(deadline, waits_->first_look(*ticket)) : deadline;
  if (first != clock::time_point::max()) timer.emplace(co_await asio::this_coro::executor, first);
  asio::steady_timer* const expiry = timer ? &*timer : nullptr;  // named: GCC 12 and temporaries in co_await
  expiry_again again;
  if (ticket) again = queue_watch(ticket, deadline);
  offloaded<net::http_response> outcome;
  if (run_here(app))
    outcome = co_await offload_within<net::http_response>(relayed_, std::move(work), expiry, std::move(again));
  else
    outcome = co_await offload_within<net::http_response>(app_threads_, std::move(work), expiry, std::move(again));
  if (outcome.expired && ticket && ticket->state.load() == queue_wait::outcome::shed) {
    // Waited past --queue-wait: answered as if the queue had been full, not run late.
    slot_.shed_waited.fetch_add(1);
    auto r = co_await refuse(req, path, query);
    co_return r;
  }
  if (outcome.expired) {
    slot_.timeouts.fetch_add(1);
    obs_.message(
        fmt::format("request {} {} {}: 504 after {} ms", request_id_text(id), req.method, path, o_.timeout.count()));
    co_return plain(504, "the request took longer than the server's timeout\n");
  }
  std::optional<net::http_response> r = std::move(outcome.value);
  if (!r) co_return plain(500, "the request failed\n");
  if (shared_ && !cache_key.empty() && r->status == 200) shared_->put(cache_key, *r);
  co_return not_modified_or(req, std::move(*r));
}

// A job's answer from the worker's cache, else from the shared one (then kept
// in the worker's too), counted per level; nullopt when neither has it.
// `degraded`: for an overloaded worker (marked so, and not counted as lookups).
core::task<std::optional<net::http_response>> worker::cached(const std::string& key, bool degraded) {
  if (o_.cache_mb > 0) {
    if (auto hit = cache_.get(key)) {
      if (!degraded) slot_.cache_hits.fetch_add(1);
      co_return mark_cached(std::move(*hit), "hit", degraded);
    }
    if (!degraded) slot_.cache_misses.fetch_add(1);
  }
  if (!shared_) co_return std::nullopt;
  auto got = co_await shared_->get(key);
  if (!degraded) {
    using outcome = shared_cache::outcome;
    (got.what == outcome::hit    ? slot_.shared_hits
     : got.what == outcome::miss ? slot_.shared_misses
                                 : slot_.shared_errors)
        .fetch_add(1);
  }
  if (got.what != shared_cache::outcome::hit) co_return std::nullopt;
  cache_.put(key, got.response);
  co_return mark_cached(std::move(got.response), "redis", degraded);
}

// Overloaded (the queue full, or a request waited too long for a thread):
// with --degrade, from a cache or coarser when it can; else 503.
core::task<net::http_response> worker::refuse(const net::http_request& req, const std::string& path,
                                              const std::string& query) {
  std::optional<net::http_response> cheaper;
  if (o_.degrade) cheaper = co_await degraded(req, path, query);
  if (cheaper) {
    slot_.degraded.fetch_add(1);
    co_return std::move(*cheaper);
  }
  slot_.shed.fetch_add(1);
  co_return plain(503, "overloaded: try again in a moment\n");
}

// --degrade, the queue full: a tile or a prime from a cache, or a tile drawn
// coarser on a thread of its own (itself bounded by --queue); nullopt: 503.
core::task<std::optional<net::http_response>> worker::degraded(const net::http_request& req, const std::string& path,
                                                               const std::string& query) {
  const bool reading = req.method == "GET" || req.method == "HEAD";
  if (!reading || !native_endpoints::cacheable(path) || (apps_ && apps_->find(path))) co_return std::nullopt;
  if (auto hit = co_await cached(path + "?" + query, true)) co_return not_modified_or(req, std::move(*hit));
  if (path != "/mandelbrot.png" || coarse_waiting_.load() >= o_.queue) co_return std::nullopt;
  coarse_waiting_.fetch_add(1);
  auto r = co_await offload<net::http_response>(*coarse_thread_, coarse_work(query));
  coarse_waiting_.fetch_sub(1);
  co_return r;
}

// Whether to run `app`'s call on the loop's thread (see quick_bound); if so,
// it holds one of the application threads' places until it has run.
bool worker::run_here(std::optional<std::size_t> app) {
  if (!app || quick_[*app].load(std::memory_order_relaxed) < quick_score) return false;
  if (relay_.busy() || !app_threads_.try_claim()) return false;
  slot_.run_on_loop.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void worker::learn(std::size_t app, clock::duration took, bool whole) {
  // Not one atomic step: two calls ending at once may count as one (a score, not a tally).
  auto& score = quick_[app];
  const std::uint32_t was = score.load(std::memory_order_relaxed);
  const std::uint32_t now = !whole               ? 0
                            : took > quick_bound ? was - std::min(was, quick_slow_cost)
                                                 : std::min(was + 1, quick_cap);
  if (now != was) score.store(now, std::memory_order_relaxed);
}

// Made outside the coroutine: GCC 12 double-destroys the init-captures of a
// lambda made inside one from the coroutine's own parameters.
worker::thread_work worker::on_thread(std::optional<std::size_t> app, const net::http_request& req, std::string path,
                                      std::string query, std::string cache_key, std::shared_ptr<request_record> record,
                                      clock::time_point deadline, std::shared_ptr<queue_wait::ticket> ticket) {
  // The request is copied: a thread past --timeout outlives it.
  return [this, app, r = std::make_shared<const net::http_request>(req), p = std::move(path), q = std::move(query),
          key = std::move(cache_key), record = std::move(record), deadline,
          ticket = std::move(ticket)](const deliver_fn& deliver) -> std::optional<net::http_response> {
    waiting_.fetch_sub(1);
    slot_.queued.fetch_sub(1);
    if (ticket && !waits_->start(*ticket, clock::now())) return std::nullopt;  // shed: the loop has answered it
    const on_thread_mark busy(slot_);  // the worker is busy while it runs (on the loop's thread too)
    if (app) {
      const auto t0 = std::chrono::steady_clock::now();
      bool streamed = false;
      std::chrono::nanoseconds gil_wait{};
      auto out = apps_->call(*app, *r, p, q, stream_, deliver, deadline, o_.timeout.count(), &streamed, &gil_wait);
      learn(*app, std::chrono::steady_clock::now() - t0 - gil_wait, !streamed);
      return out;
    }
    net::http_response out = endpoints_.answer(r->method, p, q, r->body);
    if (!key.empty() && out.status == 200) {  // tagged and kept here, so the loop never hashes
      out.headers.push_back({"ETag", entity_tag(out.body)});
      out.headers.push_back({"Cache-Control", "public, max-age=86400"});
      cache_.put(key, out);
      out.headers.push_back({"X-Cache", "miss"});
    }
    return out;
  };
}

// What the hand-off's timer does when it fires: a request still waiting for a
// thread is shed past its --queue-wait limit, else looked at again later; one
// running (or waiting at --timeout) expires at the deadline: 504.
expiry_again worker::queue_watch(std::shared_ptr<queue_wait::ticket> ticket, clock::time_point deadline) {
  return [this, ticket = std::move(ticket), deadline]() -> std::optional<clock::time_point> {
    const auto now = clock::now();
    if (now >= deadline) return std::nullopt;
    const auto seen = waits_->look(*ticket, now);
    if (seen.what == queue_wait::outcome::shed) return std::nullopt;
    return seen.what == queue_wait::outcome::waiting ? std::min(seen.next, deadline) : deadline;
  };
}

// `r`, or 304 when the client already has it (If-None-Match names its ETag).
net::http_response worker::not_modified_or(const net::http_request& req, net::http_response r) {
  const std::string* has = req.header("if-none-match");
  if (has == nullptr || r.status != 200) return r;
  for (const auto& h : r.headers) {
    if (h.name != "ETag" || has->find(h.value) == std::string::npos) continue;
    net::http_response unchanged;
    unchanged.status = 304;
    unchanged.content_type.clear();
    unchanged.headers = r.headers;  // ETag and Cache-Control
    return unchanged;
  }
  return r;
}

core::task<void> worker::heartbeat() {
  for (;;) {
    slot_.heartbeat_ns.store(monotonic_ns());
    co_await core::sleep_for(100ms);
  }
}

// Once a second, the whole server's rates over the last second (/fleet's charts).
core::task<void> worker::sample_fleet() {
  for (;;) {
    const auto wall =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    fleet_.sample(board_, monotonic_ns(), wall.count());
    co_await core::sleep_for(1s);
  }
}

result<core::report> worker::run() {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int> listening;
  for (int i = 0; i < id_.sockets; ++i) listening.push_back(3 + i);
  close_server_fds_in_children(listening, board_.fd());  // before the apps' import, which may fork
  if (auto s = endpoints_.start([this](const std::string& line) { obs_.message("distributed: " + line); }); !s.ok())
    return s;
  if (!o_.broker.empty()) broker_ = std::make_unique<web::broker_watch>(o_.broker, o_.broker_queue);
  if (!o_.apps.empty()) {
    auto apps = wsgi_apps::start(o_, obs_, &slot_);
    if (!apps.ok()) return apps.error();
    apps_ = std::move(apps).value();
    quick_ = std::make_unique<std::atomic<std::uint32_t>[]>(o_.apps.size());
  }
  net::http_server_options h;
  h.listen_fds = listening;
  // The master's bound (it said when it is short): an app that changed the limit at import does not change it.
  h.max_connections = board_.header().worker_connections.load();
  h.limits.max_body = o_.max_body;
  // The master's SIGTERM drains; the master kills what is left after --grace.
  h.stop = obs_.stop_token();
  h.grace = o_.grace;
  if (o_.degrade) coarse_thread_.emplace(1);
  if (o_.queue_wait.count() > 0) waits_.emplace(o_.queue_wait);
  h.on_start = [this](asio::io_context& loop) {
    stream_.loop = loop.get_executor();
    stream_.loop_gone = loop_gone_.get_token();
    stream_.on_timeout = [this] { slot_.timeouts.fetch_add(1); };
    if (!o_.cache.empty())
      shared_ = std::make_unique<shared_cache>(
          loop.get_executor(),
          shared_cache::settings{.where = taskqueue::redis_endpoint::parse(o_.cache).value(),
                                 .ttl = std::chrono::seconds(o_.cache_ttl)},
          [this](const std::string& line) { obs_.message(line); });
    asio::co_spawn(loop, heartbeat(), asio::detached);
    asio::co_spawn(loop, sample_fleet(), asio::detached);
    slot_.heartbeat_ns.store(monotonic_ns());
    slot_.state.store(static_cast<std::uint32_t>(worker_state::ready));
  };
  // Connections are shared out among the workers as they are accepted (scoreboard.h: accept_pause).
  h.on_connections = [this](std::size_t open) { slot_.connections.store(static_cast<std::uint32_t>(open)); };
  if (apps_) h.run = [this](asio::io_context& loop) { relay_.run(loop); };
  h.accept_pause = [this](std::size_t open) { return accept_pause(board_, id_.slot, open, monotonic_ns()); };
  h.on_stop = [this](asio::io_context&) {
    shared_.reset();  // its Redis connection is the loop's
    loop_gone_.request_stop();
  };
  const std::stop_callback stopping(obs_.stop_token(),
                                    [this] { slot_.state.store(static_cast<std::uint32_t>(worker_state::stopping)); });
  auto served = net::serve_http(
      h, [this](const net::http_request& req) { return handle(req); },
      [this](const std::string& line) { obs_.message(line); });
  app_threads_.close();
  if (coarse_thread_) coarse_thread_->close();
  endpoints_.stop();
  if (!served.ok()) return served.error();
  core::report r("serve worker");
  r.elapsed = std::chrono::steady_clock::now() - t0;
  r.items = static_cast<double>(slot_.requests.load());
  r.unit = "requests";
  return r;
}

}  // namespace

std::optional<result<core::report>> run_worker_if_started(const options& o, core::observer& obs) {
  if (auto checked = run_app_check_if_started(o, obs)) return checked;
  const auto id = identity_from_environment();
  if (!id) return std::nullopt;
  ::unsetenv(worker_env_name);                       // not for the processes this one starts
  name_this_process(worker_process_name(id->slot));  // it was "exe", as every worker
  // The terminal's Ctrl-C reaches the whole process group: the master decides.
  auto& signals = core::stop_signals::install();
  signals.on(SIGINT, {});
  signals.on(SIGHUP, {});
  signals.on(SIGTTIN, {});
  signals.on(SIGTTOU, {});
  signals.on(SIGUSR2, {});
  signals.on(SIGQUIT, [] { core::die_of_signal(SIGQUIT); });
  signals.on(SIGUSR1, [] { dump_application_tracebacks(); });
  // Before any thread starts: what an app starts (subprocess) must not inherit a blocked TERM.
  signals.forward_from_any_thread();
  auto board = scoreboard::attach(3 + id->sockets);
  if (!board.ok()) return result<core::report>(board.error());
  worker w(o, obs, std::move(board).value(), *id);
  return w.run();
}

}  // namespace scalekit::serve
