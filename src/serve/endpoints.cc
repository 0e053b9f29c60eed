// serve's native endpoints: health, status and metrics from the scoreboard;
// scalekit's jobs as a service.

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "scalekit/core/process_pool.h"
#include "scalekit/jobs/mandelbrot/mandelbrot.h"
#include "scalekit/jobs/primes/primes.h"
#include "scalekit/jobs/sort_service/sort_service.h"
#include "scalekit/jobs/thumbnail/png_call.h"
#include "scalekit/serve/web/tile.h"
#include "scalekit/serve/wsgi.h"
#include "upgrade.h"
#include "worker_detail.h"
#include "wsgi/protocol.h"

namespace scalekit::serve {

namespace {

namespace mb = jobs::mandelbrot;

constexpr const char* text_type = "text/plain; charset=utf-8";
constexpr const char* json_type = "application/json";
constexpr std::uint64_t max_tile_pixels = std::uint64_t{4096} * 4096;
// A tile's work is at most w*h*n iterations; else one request holds a worker's
// jobs executor until --timeout, and costs the worker. The most a real request
// asks: the explorer's 256-px tiles at its largest n (100000), 6.6e9, and the
// largest tile at the default n (1000), 1.7e10; 2^36 (6.9e10) is 4x that.
constexpr std::uint64_t max_tile_iterations = std::uint64_t{1} << 36;
// POST /thumbnail: images declaring more pixels are refused (413) from their
// header; below it, a PNG decoded whole holds at most 75 MB on a thread.
constexpr std::uint64_t max_thumbnail_pixels = 25'000'000;
constexpr std::size_t thumbnail_processes = 2;  // each worker's, for POST /thumbnail

net::http_response reply(int status, std::string body, const char* type = text_type) {
  net::http_response r;
  r.status = status;
  r.content_type = type;
  r.body = std::move(body);
  return r;
}

// A query string's name or value as a form encodes it: '+' a space, %XX a byte.
std::string form_decode(std::string_view s) {
  std::string plus_as_space(s);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return wsgi::protocol::percent_decode(plus_as_space);
}

// The value of `key` in a query string ("w=256&n=1000"), decoded ("n=%31%30" is
// n=10, as a browser's form may send it); nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (form_decode(pair.substr(0, eq)) == key)
      return eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// A Prometheus label value: backslash, double quote and newline escaped, and
// UTF-8 (the text format's encoding, which has no escape for a byte).
std::string label_escape(std::string_view raw) {
  const std::string s = core::valid_utf8(raw);
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `s` as a JSON string, quoted; bytes that are not UTF-8 become U+FFFD.
std::string json_string(std::string_view s) {
  std::string out;
  core::append_json_string(out, s);
  return out;
}

// The explorer's form, z=&x=&y= (web/tile.h): a 256-px tile of the map,
// instead of w, h and the region.
std::optional<net::http_response> tile_region(std::string_view query, mb::params& p) {
  const auto z = query_value(query, "z");
  if (!z) return std::nullopt;
  int zoom = 0;
  std::int64_t x = 0, y = 0;
  const auto tx = query_value(query, "x"), ty = query_value(query, "y");
  if (!parse_number(*z, zoom) || !tx || !parse_number(*tx, x) || !ty || !parse_number(*ty, y))
    return reply(400, "z, x, y: whole numbers (a tile's zoom, column and row)\n");
  auto w = web::tile_window(zoom, x, y);
  if (!w.ok()) return reply(400, w.error().message() + "\n");
  p.width = p.height = web::tile_pixels;
  p.x0 = w->x0;
  p.y0 = w->y0;
  p.x1 = w->x1;
  p.y1 = w->y1;
  return std::nullopt;
}

}  // namespace

std::optional<net::http_response> tile_params(std::string_view query, mb::params& p) {
  p = mb::params{};  // the defaults draw exactly `scalekit mandelbrot`'s image
  if (auto refused = tile_region(query, p)) return refused;
  const struct {
    const char* key;
    std::uint32_t* value;
  } sizes[] = {{"w", &p.width}, {"h", &p.height}, {"n", &p.max_iterations}};
  for (const auto& s : sizes) {
    if (auto v = query_value(query, s.key); v && !parse_number(*v, *s.value))
      return reply(400, std::string(s.key) + ": a whole number from 0 to 4294967295\n");
  }
  const struct {
    const char* key;
    double* value;
  } region[] = {{"x0", &p.x0}, {"y0", &p.y0}, {"x1", &p.x1}, {"y1", &p.y1}};
  for (const auto& r : region) {
    if (auto v = query_value(query, r.key); v && !parse_number(*v, *r.value))
      return reply(400, std::string(r.key) + ": not a number\n");
  }
  if (std::uint64_t{p.width} * p.height > max_tile_pixels)
    return reply(413, "a tile has at most " + std::to_string(max_tile_pixels) + " pixels\n");
  if (const std::uint64_t work = std::uint64_t{p.width} * p.height * p.max_iterations; work > max_tile_iterations)
    return reply(413, "a tile is at most " + std::to_string(max_tile_iterations) + " iterations (w*h*n), not " +
                          std::to_string(work) + "\n");
  if (auto s = mb::validate(p); !s.ok()) return reply(400, s.message() + "\n");
  return std::nullopt;
}

namespace {

// A tile, and the processes that computed it (X-Computed-By); nullopt when the render failed (`failed` says why).
std::optional<net::http_response> mandelbrot_tile(std::string_view query, core::executor& ex, status& failed) {
  mb::params p;
  if (auto refused = tile_params(query, p)) return std::move(*refused);
  mb::render_options ro;
  std::string runners;  // ","-separated, each once
  ro.on_runner = [&runners](std::string_view runner) {
    if (("," + runners + ",").find("," + std::string(runner) + ",") != std::string::npos) return;
    runners += (runners.empty() ? "" : ",") + std::string(runner);
  };
  if (ex.kind() == core::executor_kind::distributed) {
    // A few large tasks: each costs a round trip through Redis.
    const auto tasks = static_cast<std::uint32_t>(std::clamp<std::size_t>(ex.concurrency() * 2, 1, 16));
    ro.rows_per_task = (p.height + tasks - 1) / tasks;
  }
  auto img = mb::render(p, ex, ro);
  if (!img.ok()) {
    failed = img.error();
    return std::nullopt;
  }
  auto png = mb::encode_png(*img);
  if (!png.ok()) return reply(500, png.error().message() + "\n");
  auto r = reply(200, std::move(png).value(), "image/png");
  // The explorer shows who computed it: the serve worker, and the processes or distributed workers that ran its rows.
  r.headers.push_back({"X-Worker-Pid", std::to_string(::getpid())});
  r.headers.push_back({"X-Computed-By", runners});
  return r;
}

// Check and factor n: here, or as one task on `ex` (the distributed workers).
net::http_response primes_answer(std::string_view query, core::executor* ex,
                                 const std::function<net::http_response(const status&)>& failure) {
  const auto v = query_value(query, "n");
  std::uint64_t n = 0;
  if (!v || !parse_number(*v, n)) return reply(400, "n: a whole number from 0 to 18446744073709551615\n");
  std::vector<std::uint64_t> factors;
  bool prime = false;
  if (ex != nullptr) {
    auto f = jobs::primes::factor_on(*ex, n);
    if (!f.ok()) return failure(f.error());
    factors = std::move(f).value();
    prime = n >= 2 && factors.size() == 1 && factors[0] == n;  // factor(0) is {0}, factor(1) is {1}
  } else {
    prime = jobs::primes::is_prime_fast(n);
    factors = jobs::primes::factor_fast(n);
  }
  std::string body = "{\"n\": " + std::to_string(n) + ", \"prime\": " + (prime ? "true" : "false") + ", \"factors\": [";
  for (std::size_t i = 0; i < factors.size(); ++i) body += (i ? ", " : "") + std::to_string(factors[i]);
  body += "]}\n";
  return reply(200, std::move(body), json_type);
}

// POST /sort: a JSON array of integers in, sorted out (the sort service's job over HTTP).
net::http_response sort_answer(std::string_view method, std::string_view body, core::executor& ex,
                               const std::function<net::http_response(const status&)>& failure) {
  if (method != "POST") {
    auto r = reply(405, "POST a JSON array of integers to /sort\n");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }
  auto sorted = jobs::sort_service::sort_body(ex, std::string(body));
  if (!sorted.ok()) {
    if (sorted.error().code() != status_code::invalid_argument) return failure(sorted.error());
    return reply(400, sorted.error().message() + "\n", json_type);
  }
  return reply(200, std::move(sorted).value() + "\n", json_type);
}

// A request that waits, as an application waiting on a database or another
// service would: holds an application thread, not the CPU.
net::http_response sleep_answer(std::string_view query) {
  constexpr std::uint64_t max_ms = 600'000;
  const auto v = query_value(query, "ms");
  std::uint64_t ms = 0;
  if (!v || !parse_number(*v, ms) || ms > max_ms)
    return reply(400, "ms: a whole number of milliseconds up to " + std::to_string(max_ms) + "\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return reply(200, "slept " + std::to_string(ms) + " ms\n");
}

}  // namespace

status native_endpoints::start(std::function<void(const std::string&)> log) {
  log_ = std::move(log);
  const auto kind = core::parse_executor_kind(o_.executor);
  if (!kind)
    return status::invalid_argument("--executor: serial, threads, processes, openmp or distributed, not '" +
                                    o_.executor + "'");
  if (*kind == core::executor_kind::distributed && o_.broker.empty())
    return status::invalid_argument("--executor distributed needs --broker URL");
  try {
    jobs_ = make_executor(*kind);
  } catch (const std::exception& e) {
    return status::invalid_argument(e.what());
  }
  return {};
}

void native_endpoints::stop() {
  if (jobs_) jobs_->close();
  std::scoped_lock lock(others_mutex_);
  for (auto& [kind, ex] : others_) ex->close();
  if (thumbnails_) thumbnails_->close();
}

// POST /thumbnail?w=&h=: an image in, its PNG thumbnail out, fitting in the
// box (one side given, the box is square; none, the command's 64x64). The
// thumbnail job's code makes it in a pool of scalekit-thumbnail
// processes, made at the first request: libvips never loads here, and a decoder that crashes or
// hangs (past --timeout) on a hostile image costs a pool process.
net::http_response native_endpoints::thumbnail_answer(std::string_view method, std::string_view query,
                                                      std::string_view body) {
  namespace th = jobs::thumbnail;
  if (method != "POST") {
    auto r = reply(405, "POST an image to /thumbnail\n");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }
  th::options o;
  o.max_pixels = max_thumbnail_pixels;
  const auto w = query_value(query, "w"), h = query_value(query, "h");
  if (w || h) {
    const std::string_view width = w ? *w : *h, height = h ? *h : *w;
    auto box = th::parse_size(std::string(width) + "x" + std::string(height));
    if (!box.ok()) return reply(400, "w, h: " + box.error().message() + "\n");
    o.width = box->first;
    o.height = box->second;
  }
  core::executor* pool = nullptr;
  {
    std::scoped_lock lock(others_mutex_);
    if (!thumbnails_) {
      core::process_pool_options po;
      po.workers = thumbnail_processes;
      po.executable = !o_.thumbnailer.empty()
                          ? o_.thumbnailer
                          : (std::filesystem::path(own_binary_path()).parent_path() / "scalekit-thumbnail").string();
      po.task_timeout = o_.timeout;
      thumbnails_ = std::make_unique<core::process_pool>(po);
    }
    pool = thumbnails_.get();
  }
  result<std::string> call = status::internal("no call");
  try {
    call = pool->submit(th::png_task, th::encode_png_call(body, o)).get();
  } catch (const std::exception& e) {
    call = status::internal(e.what());
  }
  th::png_answer made = th::png_answer_of(call);
  if (made.what.what == th::outcome::made) return reply(200, std::move(made.png), "image/png");
  std::string why = made.what.reason;
  for (char& c : why)
    if (c == '\n' || c == '\r') c = ' ';
  const int code = why.rfind("too large", 0) == 0 ? 413 : why.rfind("the decoder failed", 0) == 0 ? 500 : 400;
  return reply(code, "the body: " + why + "\n");
}

std::optional<net::http_response> native_endpoints::answer_on_loop(std::string_view path, std::string_view) const {
  if (path == "/healthz") return reply(200, "ok\n");
  if (path == "/status") return reply(200, status_json(board_, o_.apps), json_type);
  if (path == "/metrics") return reply(200, metrics_text(board_, o_.apps), "text/plain; version=0.0.4; charset=utf-8");
  if (path == "/executors") {
    std::string choices = R"(["serial", "threads", "processes", "openmp")";
    if (!o_.broker.empty()) choices += R"(, "distributed")";
    return reply(200, "{\"default\": " + json_string(o_.executor) + ", \"choices\": " + choices + "]}\n", json_type);
  }
  return std::nullopt;
}

net::http_response native_endpoints::answer(std::string_view method, std::string_view path, std::string_view query,
                                            std::string_view body) {
  try {
    const auto fail = [this](const status& why) { return failure(why); };
    if (path == "/mandelbrot.png") {
      const std::string name = query_value(query, "executor").value_or(std::string(o_.executor));
      core::executor* ex = executor_named(name);
      if (ex == nullptr)
        return reply(400, "executor: serial, threads, processes, openmp" +
                              std::string(o_.broker.empty() ? "" : ", distributed") + " or the server's own (" +
                              o_.executor + ")\n");
      status failed;
      auto r = mandelbrot_tile(query, *ex, failed);
      if (!r) return failure(failed);
      if (r->status == 200) r->headers.push_back({"X-Executor", std::string(name)});  // where the rows ran
      return std::move(*r);
    }
    const bool distributed = jobs_->kind() == core::executor_kind::distributed;
    if (path == "/primes") return primes_answer(query, distributed ? jobs_.get() : nullptr, fail);
    if (path == "/sleep") return sleep_answer(query);
    if (path == "/sort") return sort_answer(method, body, *jobs_, fail);
    if (path == "/thumbnail") return thumbnail_answer(method, query, body);
  } catch (const std::exception& e) {
    return reply(500, std::string(e.what()) + "\n");
  }
  return reply(404, "no such page: " + std::string(path) + "\n");
}

namespace {

// One WSGI app's counters (scoreboard.h: app_counters), summed.
struct app_totals {
  std::uint64_t calls = 0, app_errors = 0, cut = 0, client_gone = 0, gil_wait_ns = 0;
};

// The whole server's counters: both cache levels' lookups, the loop relay's
// (loop_relay.h) and the WSGI apps', summed over the live workers.
struct live_totals {
  std::uint64_t hits = 0, misses = 0, shared_hits = 0, shared_misses = 0, shared_errors = 0;
  std::uint64_t run_on_loop = 0, loop_rescues = 0;
  std::uint64_t errors_cut_bytes = 0, errors_rate_dropped_bytes = 0;
  app_totals apps[apps_shown];
  explicit live_totals(const scoreboard& board) {
    for (std::uint32_t i = 0; i < board.capacity(); ++i) {
      const worker_slot& s = board.slot(i);
      if (s.state.load() == static_cast<std::uint32_t>(worker_state::empty)) continue;
      hits += s.cache_hits.load();
      misses += s.cache_misses.load();
      shared_hits += s.shared_hits.load();
      shared_misses += s.shared_misses.load();
      shared_errors += s.shared_errors.load();
      run_on_loop += s.run_on_loop.load();
      loop_rescues += s.loop_rescues.load();
      errors_cut_bytes += s.errors_cut_bytes.load();
      errors_rate_dropped_bytes += s.errors_rate_dropped_bytes.load();
      for (int a = 0; a < apps_shown; ++a) {
        apps[a].calls += s.apps[a].calls.load();
        apps[a].app_errors += s.apps[a].app_errors.load();
        apps[a].cut += s.apps[a].cut.load();
        apps[a].client_gone += s.apps[a].client_gone.load();
        apps[a].gil_wait_ns += s.apps[a].gil_wait_ns.load();
      }
    }
  }
};

// What app_counters index `a` counts: the app at that place of --wsgi's
// order, or past apps_shown, in the last place, all the rest (named so).
struct app_name {
  std::string_view app, mount;
};
app_name app_at(const std::vector<app_mount>& apps, std::size_t a) {
  if (a == apps_shown - 1 && apps.size() > apps_shown) return {"(the rest)", ""};
  return {apps[a].spec, apps[a].prefix};
}
std::size_t apps_counted(const std::vector<app_mount>& apps) { return std::min<std::size_t>(apps.size(), apps_shown); }

// "apps": [{"app", "mount", "calls", "app_errors", "cut", "client_gone", "gil_wait_s"}, ...]
// and "wsgi_errors_dropped_bytes": {"long_lines", "rate"}: the whole server's.
std::string apps_json(const live_totals& t, const std::vector<app_mount>& apps) {
  std::string out = "\"apps\": [";
  for (std::size_t a = 0; a < apps_counted(apps); ++a) {
    const app_name n = app_at(apps, a);
    const app_totals& c = t.apps[a];
    out += fmt::format(
        "{}{{\"app\": {}, \"mount\": {}, \"calls\": {}, \"app_errors\": {}, \"cut\": {}, \"client_gone\": {}, "
        "\"gil_wait_s\": {:.6f}}}",
        a == 0 ? "" : ", ", json_string(n.app), json_string(n.mount), c.calls, c.app_errors, c.cut, c.client_gone,
        static_cast<double>(c.gil_wait_ns) / 1e9);
  }
  return out + fmt::format("], \"wsgi_errors_dropped_bytes\": {{\"long_lines\": {}, \"rate\": {}}}", t.errors_cut_bytes,
                           t.errors_rate_dropped_bytes);
}

// hits / lookups, 0 before the first lookup.
std::string hit_rate(std::uint64_t hits, std::uint64_t lookups) {
  return fmt::format("{:.4f}", lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups));
}

// {"lru": {"hits", "misses", "hit_rate"}, "redis": {... "errors"}}: the whole server's.
std::string cache_json(const live_totals& t) {
  const std::uint64_t shared = t.shared_hits + t.shared_misses + t.shared_errors;
  return fmt::format(
      "{{\"lru\": {{\"hits\": {}, \"misses\": {}, \"hit_rate\": {}}}, \"redis\": {{\"hits\": {}, "
      "\"misses\": {}, \"errors\": {}, \"hit_rate\": {}}}}}",
      t.hits, t.misses, hit_rate(t.hits, t.hits + t.misses), t.shared_hits, t.shared_misses, t.shared_errors,
      hit_rate(t.shared_hits, shared));
}

// Every slot's (generation, state): what a list of the workers must not see change.
std::vector<std::pair<std::uint64_t, std::uint32_t>> lifecycles(const scoreboard& board) {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> out(board.capacity());
  for (std::uint32_t i = 0; i < board.capacity(); ++i)
    out[i] = {board.slot(i).generation.load(), board.slot(i).state.load()};
  return out;
}

// The workers, as status_json's "workers" list (without its brackets).
std::string workers_json(const scoreboard& board, std::int64_t now) {
  std::string out;
  bool first = true;
  for (std::uint32_t i = 0; i < board.capacity(); ++i) {
    const worker_slot& s = board.slot(i);
    const auto state = static_cast<worker_state>(s.state.load());
    if (state == worker_state::empty) continue;
    out += std::string(first ? "" : ", ") + "{\"slot\": " + std::to_string(i) +
           ", \"pid\": " + std::to_string(s.pid.load()) + ", \"state\": \"" + std::string(to_string(state)) +
           "\", \"generation\": " + std::to_string(s.generation.load()) +
           ", \"age_s\": " + std::to_string((now - s.started_ns.load()) / 1'000'000'000) +
           ", \"heartbeat_age_ms\": " + std::to_string((now - s.heartbeat_ns.load()) / 1'000'000) +
           ", \"requests\": " + std::to_string(s.requests.load()) +
           ", \"bytes_out\": " + std::to_string(s.bytes_out.load()) +
           ", \"connections\": " + std::to_string(s.connections.load()) +
           ", \"in_flight\": " + std::to_string(s.in_flight.load()) +
           ", \"queued\": " + std::to_string(s.queued.load()) + ", \"shed\": " + std::to_string(s.shed.load()) +
           ", \"shed_waited\": " + std::to_string(s.shed_waited.load()) +
           ", \"timeouts\": " + std::to_string(s.timeouts.load()) +
           ", \"cache_hits\": " + std::to_string(s.cache_hits.load()) +
           ", \"cache_misses\": " + std::to_string(s.cache_misses.load()) +
           ", \"redis_cache_hits\": " + std::to_string(s.shared_hits.load()) +
           ", \"redis_cache_misses\": " + std::to_string(s.shared_misses.load()) +
           ", \"redis_cache_errors\": " + std::to_string(s.shared_errors.load()) +
           ", \"degraded\": " + std::to_string(s.degraded.load()) +
           ", \"run_on_loop\": " + std::to_string(s.run_on_loop.load()) +
           ", \"loop_rescues\": " + std::to_string(s.loop_rescues.load()) + ", \"running\": [";
    first = false;
    bool first_request = true;
    for (int r = 0; r < worker_slot::max_requests_shown; ++r) {
      std::uint64_t id = 0;
      std::int64_t start = 0;
      std::string method, path;
      if (!s.read_request(r, id, start, method, path)) continue;
      out += std::string(first_request ? "" : ", ") + "{\"id\": \"" + request_id_text(id) +
             "\", \"method\": " + json_string(method) + ", \"path\": " + json_string(path) +
             ", \"elapsed_ms\": " + std::to_string((now - start) / 1'000'000) + "}";
      first_request = false;
    }
    out += "]}";
  }
  return out;
}

}  // namespace

std::string status_json(const scoreboard& board, const std::vector<app_mount>& apps) {
  const std::int64_t now = monotonic_ns();
  const auto& h = board.header();
  std::string out = "{\"master_pid\": " + std::to_string(h.master_pid.load()) +
                    ", \"uptime_s\": " + std::to_string((now - h.started_ns.load()) / 1'000'000'000) +
                    ", \"workers_wanted\": " + std::to_string(h.workers_wanted.load()) +
                    ", \"accept_queue\": " + std::to_string(h.accept_queue.load()) +
                    ", \"worker_connections\": " + std::to_string(h.worker_connections.load()) + ", \"restarts\": ";
  const live_totals totals(board);
  out += restarts_json(h) + ", \"cache\": " + cache_json(totals) +
         fmt::format(", \"run_on_loop\": {}, \"loop_rescues\": {}, ", totals.run_on_loop, totals.loop_rescues) +
         apps_json(totals, apps) + ", \"workers\": [";
  // One instant's picture of the workers: a slot's generation and state only
  // move forward, so a list made between two equal readings of them all
  // shows them as they were at the second (a reader preempted mid-list saw a
  // recycle's successor beside the next recycle's). A few tries, then as read.
  std::string workers;
  for (int tries = 0; tries < 8; ++tries) {
    const auto before = lifecycles(board);
    workers = workers_json(board, now);
    if (lifecycles(board) == before) break;
  }
  return out + workers + "]}\n";
}

std::string metrics_text(const scoreboard& board, const std::vector<app_mount>& apps) {
  std::string out;
  const auto metric = [&](const std::string& name, const std::string& type, const std::string& help) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  const std::int64_t now = monotonic_ns();
  struct row {
    std::uint32_t slot;
    const worker_slot* s;
  };
  std::vector<row> live;
  for (std::uint32_t i = 0; i < board.capacity(); ++i)
    if (board.slot(i).state.load() != static_cast<std::uint32_t>(worker_state::empty))
      live.push_back({i, &board.slot(i)});
  const auto label = [](const row& r) { return "worker=\"" + std::to_string(r.slot) + "\""; };
  // A metric with one sample per live worker: the value of `field` in its slot.
  const auto per_worker = [&](const std::string& name, const std::string& type, const std::string& help, auto field) {
    metric(name, type, help);
    for (const row& r : live) out += name + "{" + label(r) + "} " + std::to_string((r.s->*field).load()) + "\n";
  };

  metric("scalekit_serve_accept_queue", "gauge", "Connections accepted by the kernel, not yet by a worker.");
  out += "scalekit_serve_accept_queue " + std::to_string(board.header().accept_queue.load()) + "\n";
  // The WSGI apps' figures, by worker, app (MODULE:CALLABLE) and mount; past
  // apps_shown apps, the last one counts the rest, and its labels say so.
  const auto app_label = [&](const row& r, std::size_t a) {
    const app_name n = app_at(apps, a);
    return label(r) + ",app=\"" + label_escape(n.app) + "\",mount=\"" + label_escape(n.mount) + "\"";
  };
  metric("scalekit_serve_wsgi_calls_total", "counter", "Calls of the WSGI app that ended, whatever their outcome.");
  for (const row& r : live)
    for (std::size_t a = 0; a < apps_counted(apps); ++a)
      out += "scalekit_serve_wsgi_calls_total{" + app_label(r, a) + "} " + std::to_string(r.s->apps[a].calls.load()) +
             "\n";
  metric("scalekit_serve_wsgi_failed_calls_total", "counter",
         "Calls of the WSGI app that failed: app_error (it failed before sending a header: 500), cut (it failed or "
         "sent too little after its head: the connection was cut), client_gone (the client left first).");
  for (const row& r : live)
    for (std::size_t a = 0; a < apps_counted(apps); ++a)
      for (const auto& [outcome, n] :
           {std::pair{"app_error", &r.s->apps[a].app_errors}, std::pair{"cut", &r.s->apps[a].cut},
            std::pair{"client_gone", &r.s->apps[a].client_gone}})
        out += "scalekit_serve_wsgi_failed_calls_total{" + app_label(r, a) + ",outcome=\"" + outcome + "\"} " +
               std::to_string(n->load()) + "\n";
  metric("scalekit_serve_gil_wait_seconds_total", "counter",
         "Time the worker's application threads waited for Python's GIL, by WSGI app (MODULE:CALLABLE) and mount.");
  for (const row& r : live)
    for (std::size_t a = 0; a < apps_counted(apps); ++a)
      out += fmt::format("scalekit_serve_gil_wait_seconds_total{{{}}} {:.6f}\n", app_label(r, a),
                         static_cast<double>(r.s->apps[a].gil_wait_ns.load()) / 1e9);
  if (!apps.empty()) {
    metric("scalekit_serve_wsgi_errors_dropped_bytes_total", "counter",
           "Bytes the WSGI apps wrote to wsgi.errors that did not reach the log: cut off lines longer than " +
               std::to_string(wsgi::max_errors_line) + " bytes (long_line), or over the rate (rate).");
    for (const row& r : live)
      for (const auto& [reason, n] :
           {std::pair{"long_line", &r.s->errors_cut_bytes}, std::pair{"rate", &r.s->errors_rate_dropped_bytes}})
        out += "scalekit_serve_wsgi_errors_dropped_bytes_total{" + label(r) + ",reason=\"" + reason + "\"} " +
               std::to_string(n->load()) + "\n";
  }
  per_worker("scalekit_serve_wsgi_run_on_loop_total", "counter",
             "WSGI calls run on the loop's thread instead of an application thread (apps that answer quickly).",
             &worker_slot::run_on_loop);
  per_worker("scalekit_serve_loop_rescues_total", "counter",
             "Calls run on the loop's thread that overran a millisecond or two, so that another thread took the loop.",
             &worker_slot::loop_rescues);
  metric("scalekit_serve_requests_total", "counter", "Responses sent, by worker and status class.");
  for (const row& r : live)
    for (int c = 1; c <= 5; ++c)
      out += "scalekit_serve_requests_total{" + label(r) + ",code=\"" + std::to_string(c) + "xx\"} " +
             std::to_string(r.s->status_class[c].load()) + "\n";
  per_worker(
      "scalekit_serve_response_bytes_total", "counter",
      "Response body bytes written to clients (streamed ones as they go out; heads and chunk framing not counted).",
      &worker_slot::bytes_out);
  per_worker("scalekit_serve_connections", "gauge", "Connections open, idle keep-alive ones included.",
             &worker_slot::connections);
  per_worker("scalekit_serve_in_flight", "gauge", "Requests read and not yet answered.", &worker_slot::in_flight);
  per_worker("scalekit_serve_queued", "gauge", "Requests waiting for an application thread.", &worker_slot::queued);
  per_worker("scalekit_serve_shed_total", "counter",
             "Requests refused with 503 because the worker was overloaded: its queue was full, or they waited "
             "past --queue-wait for a thread.",
             &worker_slot::shed);
  per_worker("scalekit_serve_shed_waited_total", "counter",
             "Requests that waited past --queue-wait for a thread and were refused (503) or degraded instead of run "
             "late.",
             &worker_slot::shed_waited);
  per_worker("scalekit_serve_timeouts_total", "counter", "Requests answered 504 after --timeout.",
             &worker_slot::timeouts);
  per_worker("scalekit_serve_cache_hits_total", "counter", "Job answers served from the worker's cache.",
             &worker_slot::cache_hits);
  per_worker("scalekit_serve_cache_misses_total", "counter", "Cacheable job answers computed afresh.",
             &worker_slot::cache_misses);
  metric("scalekit_serve_redis_cache_lookups_total", "counter",
         "Lookups in the shared Redis cache (--cache), by result (error: failed, or skipped while unreachable).");
  for (const row& r : live)
    for (const auto& [result, n] : {std::pair{"hit", &r.s->shared_hits}, std::pair{"miss", &r.s->shared_misses},
                                    std::pair{"error", &r.s->shared_errors}})
      out += "scalekit_serve_redis_cache_lookups_total{" + label(r) + ",result=\"" + result + "\"} " +
             std::to_string(n->load()) + "\n";
  metric("scalekit_serve_cache_hit_ratio", "gauge",
         "Lookups answered by each cache level since the workers started, all workers together.");
  const live_totals totals(board);
  out += "scalekit_serve_cache_hit_ratio{level=\"lru\"} " + hit_rate(totals.hits, totals.hits + totals.misses) +
         "\nscalekit_serve_cache_hit_ratio{level=\"redis\"} " +
         hit_rate(totals.shared_hits, totals.shared_hits + totals.shared_misses + totals.shared_errors) + "\n";
  per_worker("scalekit_serve_degraded_total", "counter",
             "Requests answered from a cache or with a coarser tile instead of 503 (--degrade).",
             &worker_slot::degraded);
  metric("scalekit_serve_heartbeat_age_seconds", "gauge", "Time since the worker's event loop last beat.");
  for (const row& r : live) {
    char v[32];
    std::snprintf(v, sizeof v, "%.3f", static_cast<double>(now - r.s->heartbeat_ns.load()) / 1e9);
    out += "scalekit_serve_heartbeat_age_seconds{" + label(r) + "} " + v + "\n";
  }
  metric("scalekit_serve_request_duration_seconds", "histogram", "Time from a whole request to its answer.");
  for (const row& r : live) {
    std::uint64_t cumulative = 0;
    for (int b = 0; b < latency_buckets; ++b) {
      cumulative += r.s->latency[b].load();
      if (b == latency_buckets - 1) break;
      char le[32];
      std::snprintf(le, sizeof le, "%g", std::ldexp(1.0, b) / 1e6);
      out += "scalekit_serve_request_duration_seconds_bucket{" + label(r) + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "scalekit_serve_request_duration_seconds_bucket{" + label(r) + ",le=\"+Inf\"} " +
           std::to_string(cumulative) + "\n";
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(r.s->latency_sum_us.load()) / 1e6);
    out += "scalekit_serve_request_duration_seconds_sum{" + label(r) + "} " + sum + "\n";
    out += "scalekit_serve_request_duration_seconds_count{" + label(r) + "} " + std::to_string(cumulative) + "\n";
  }
  metric("scalekit_serve_worker_restarts_total", "counter", "Workers the master replaced, by cause.");
  for (int c = 0; c < static_cast<int>(restart_cause::count); ++c)
    out += "scalekit_serve_worker_restarts_total{cause=\"" + std::string(to_string(static_cast<restart_cause>(c))) +
           "\"} " + std::to_string(board.header().restarts[c].load()) + "\n";
  metric("scalekit_serve_workers", "gauge", "Worker processes by state.");
  std::size_t busy = 0, idle = 0;
  for (auto st : {worker_state::starting, worker_state::ready, worker_state::stopping}) {
    std::size_t n = 0;
    for (const row& r : live) {
      if (r.s->state.load() != static_cast<std::uint32_t>(st)) continue;
      ++n;
      if (st == worker_state::ready) ++(r.s->on_threads.load() > 0 ? busy : idle);
    }
    out += "scalekit_serve_workers{state=\"" + std::string(to_string(st)) + "\"} " + std::to_string(n) + "\n";
  }
  // A metric of its own, so that summing scalekit_serve_workers counts each worker once.
  metric("scalekit_serve_ready_workers", "gauge",
         "Ready workers, busy (a request runs on one of its application threads) or idle.");
  out += "scalekit_serve_ready_workers{activity=\"busy\"} " + std::to_string(busy) + "\n";
  out += "scalekit_serve_ready_workers{activity=\"idle\"} " + std::to_string(idle) + "\n";
  return out;
}

}  // namespace scalekit::serve
