// The WSGI applications of a serve worker: the host started in the worker,
// requests translated to and from the host's types, Python's tracebacks on
// the master's demand.

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "scalekit/serve/wsgi.h"
#include "worker_detail.h"

namespace scalekit::serve {

namespace {

// "a:b:c" split at ':' (a pythonpath), empty parts dropped.
std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= s.size();) {
    const auto end = std::min(s.find(':', start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Adds to `total` how much `now`, a counter of this process, grew since
// `seen`: once, by whichever thread sees the growth first, so that the slot's
// counter never goes back (a store of `now` could, from a thread that read it
// earlier) and goes on from its last value when the slot gets a new process.
void add_growth(std::atomic<std::uint64_t>& seen, std::uint64_t now, std::atomic<std::uint64_t>& total) {
  std::uint64_t before = seen.load(std::memory_order_relaxed);
  while (now > before) {
    if (seen.compare_exchange_weak(before, now, std::memory_order_relaxed)) {
      total.fetch_add(now - before, std::memory_order_relaxed);
      return;
    }
  }
}

}  // namespace

wsgi_apps::wsgi_apps() = default;
wsgi_apps::~wsgi_apps() = default;

result<std::unique_ptr<wsgi_apps>> wsgi_apps::start(const options& o, core::observer& obs, worker_slot* slot) {
  wsgi::host_options h;
  for (const auto& a : o.apps) h.apps.push_back({a.spec, a.prefix});
  h.chdir = o.chdir;
  h.pythonpath = split_path(o.pythonpath);
  h.threads = o.threads;
  h.multiprocess = o.workers != 1;
  h.log = [&obs](std::string_view line, std::string_view traceback) {
    std::string text(line);
    if (!traceback.empty()) text += "\n" + std::string(traceback.substr(0, traceback.find_last_not_of('\n') + 1));
    obs.message(text);
  };
  auto host = wsgi::host::start(std::move(h));
  if (!host.ok()) return host.error();
  std::unique_ptr<wsgi_apps> apps(new wsgi_apps);
  apps->host_ = std::move(host).value();
  apps->slot_ = slot;
  apps->gil_seen_ = std::make_unique<std::atomic<std::uint64_t>[]>(apps->host_->app_count());
  // SERVER_NAME and SERVER_PORT: the first address served.
  const std::string& first = o.listen.empty() ? std::string("127.0.0.1:8080") : o.listen.front();
  const auto colon = first.rfind(':');
  apps->server_name_ = first.substr(0, colon);
  apps->server_port_ = static_cast<std::uint16_t>(std::atoi(first.c_str() + colon + 1));
  return apps;
}

std::optional<std::size_t> wsgi_apps::find(std::string_view path) const { return host_->find_app(path); }

std::optional<net::http_response> wsgi_apps::call(std::size_t app, const net::http_request& req, std::string_view path,
                                                  std::string_view query, const stream_settings& s,
                                                  const deliver_fn& deliver,
                                                  std::chrono::steady_clock::time_point deadline, long long timeout_ms,
                                                  bool* streamed, std::chrono::nanoseconds* gil_wait) {
  std::vector<wsgi::header_field> headers;
  headers.reserve(req.headers.size());
  for (const auto& h : req.headers) headers.push_back({h.name, h.value});
  wsgi::request r;
  r.method = req.method;
  r.target = req.target;
  r.path = path;
  r.query = query;
  r.version = req.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1";
  r.headers = headers;
  r.body = req.body;
  if (!req.remote_address.empty()) r.remote_addr = req.remote_address;
  r.remote_port = req.remote_port;
  r.server_name = server_name_;
  r.server_port = server_port_;
  std::optional<net::http_response> out;
  bool delivered = false;
  {
    stream_sink sink(s, deliver, deadline, timeout_ms);
    const wsgi::call_result done = host_->call(app, r, sink);  // failures: in the log
    if (slot_ != nullptr) publish(app, done.what);
    delivered = sink.delivered();
    if (streamed != nullptr) *streamed = sink.streamed();
    if (gil_wait != nullptr) *gil_wait = done.gil_wait;
    if (!delivered) out = sink.take_whole();
  }
  if (delivered) return std::nullopt;
  if (!out) {
    // Failed after its head, or nothing at all: never send a part as a whole.
    out.emplace();
    out->status = 500;
    out->body = "the application failed\n";
  }
  return out;
}

void wsgi_apps::publish(std::size_t app, wsgi::outcome what) {
  app_counters& c = slot_->apps[std::min<std::size_t>(app, apps_shown - 1)];
  c.calls.fetch_add(1, std::memory_order_relaxed);
  switch (what) {
    case wsgi::outcome::ok: break;
    case wsgi::outcome::app_error: c.app_errors.fetch_add(1, std::memory_order_relaxed); break;
    case wsgi::outcome::cut: c.cut.fetch_add(1, std::memory_order_relaxed); break;
    case wsgi::outcome::client_gone: c.client_gone.fetch_add(1, std::memory_order_relaxed); break;
  }
  add_growth(gil_seen_[app], static_cast<std::uint64_t>(host_->stats(app).gil_wait.count()), c.gil_wait_ns);
  const wsgi::errors_stats e = wsgi::error_stream_stats();
  add_growth(errors_cut_seen_, e.cut_bytes, slot_->errors_cut_bytes);
  add_growth(errors_dropped_seen_, e.dropped_bytes, slot_->errors_rate_dropped_bytes);
}

void dump_application_tracebacks() {
  // Without an interpreter (no --wsgi) there is nothing to dump: the status says so, and is dropped.
  (void)wsgi::dump_tracebacks(STDERR_FILENO);
}

}  // namespace scalekit::serve
