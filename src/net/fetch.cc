// libcurl on the Asio event loop. curl's multi interface tells us which
// sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
// (CURLMOPT_TIMERFUNCTION); Asio waits for those events and reports them with
// curl_multi_socket_action. No thread besides the caller's, no polling.

#include "scalekit/net/fetch.h"

#include <curl/curl.h>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <stop_token>
#include <unordered_map>

namespace scalekit::net {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One transfer's easy handle and what it has gathered.
struct transfer {
  std::size_t index = 0;
  CURL* easy = nullptr;
  fetch_result r;
  const fetch_options* o = nullptr;
  bool too_large = false;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point start;

  transfer() = default;
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;
  ~transfer() {
    if (easy) curl_easy_cleanup(easy);
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t bytes = size * n;
  if (t->r.length + bytes > t->o->max_body) {
    t->too_large = true;
    return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
  }
  t->r.length += bytes;
  if (t->o->keep_body) t->r.body.append(data, bytes);
  return bytes;
}

// Configure an easy handle for `url`. Returns false (with t.r.error set) when
// curl refuses an option.
bool configure(transfer& t, const std::string& url, const fetch_options& o) {
  t.o = &o;
  t.r.url = url;
  t.easy = curl_easy_init();
  if (!t.easy) {
    t.r.error = status::internal("curl_easy_init failed");
    return false;
  }
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, o.max_redirects);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);         // timeouts must not raise SIGALRM in a threaded program
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(e, CURLOPT_USERAGENT, "scalekit");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  if (o.max_body < (std::uint64_t{1} << 62))
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(o.max_body));  // refuse early by Content-Length
  t.start = std::chrono::steady_clock::now();
  return true;
}

// Fill in the outcome of a finished transfer.
void finish(transfer& t, CURLcode code) {
  t.r.elapsed = std::chrono::steady_clock::now() - t.start;
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  char* effective = nullptr;
  curl_easy_getinfo(t.easy, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) t.r.final_url = effective;
  char* type = nullptr;
  curl_easy_getinfo(t.easy, CURLINFO_CONTENT_TYPE, &type);
  if (type) t.r.content_type = type;
  if (code == CURLE_OK) {
    t.r.status = status;
    return;
  }
  const std::string detail = t.errbuf[0] ? t.errbuf : curl_easy_strerror(code);
  const std::string limit = std::to_string(t.o->max_body);
  if (t.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    t.r.error = status::too_large("body larger than the limit of " + limit + " bytes");
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    t.r.error = status::timeout("timed out after " + std::to_string(t.o->timeout.count() / 1000.0).substr(0, 5) +
                                " s (" + detail + ")");
  } else if (code == CURLE_COULDNT_RESOLVE_HOST) {
    t.r.error = status::not_found("no such host (" + detail + ")");
  } else if (code == CURLE_COULDNT_CONNECT) {
    t.r.error = status::io_error("cannot connect (" + detail + ")");
  } else {
    t.r.error = status::io_error(detail);
  }
}

// A socket curl asked us to watch. The descriptor is curl's: released, never
// closed, when curl says it is done with it.
struct socket_watch {
  socket_watch(asio::io_context& ctx, curl_socket_t s) : desc(ctx, s), fd(s) {}
  asio::posix::stream_descriptor desc;
  curl_socket_t fd;
  int wanted = 0;  // CURL_POLL_IN / OUT / INOUT
  bool reading = false, writing = false, removed = false;
};

class multi_driver {
 public:
  multi_driver(const std::vector<std::string>& urls, const fetch_options& o,
               const std::function<void(std::size_t, fetch_result&)>& on_done)
      : urls_(urls), o_(o), on_done_(on_done), timer_(ctx_) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }
  ~multi_driver() {
    closed_ = true;  // handlers that completed before the cleanup must not call curl
    for (auto& [easy, t] : active_) curl_multi_remove_handle(multi_, easy);
    active_.clear();
    curl_multi_cleanup(multi_);  // closes cached connections, telling on_socket first
    for (auto& [fd, w] : sockets_) {
      w->removed = true;
      w->desc.cancel();
      w->desc.release();
    }
    sockets_.clear();
    timer_.cancel();
    // Let the cancelled waits run, so no handler outlives the I/O objects it holds.
    ctx_.restart();
    ctx_.poll();
  }
  multi_driver(const multi_driver&) = delete;
  multi_driver& operator=(const multi_driver&) = delete;

  void run() {
    if (o_.stop.stop_requested()) return;
    for (std::size_t i = 0; i < urls_.size(); ++i) waiting_.push_back(i);
    start_more();
    if (done_ == urls_.size()) return;
    // A stop ends the loop after the handler running now; the destructor
    // abandons the transfers in flight.
    const std::stop_callback on_stop(o_.stop, [this] { ctx_.stop(); });
    ctx_.run();
  }

 private:
  void start_more() {
    const std::size_t cap = std::max<std::size_t>(1, o_.max_parallel);
    while (!waiting_.empty() && active_.size() < cap) {
      const std::size_t i = waiting_.front();
      waiting_.pop_front();
      auto t = std::make_unique<transfer>();
      t->index = i;
      if (!configure(*t, urls_[i], o_) || curl_multi_add_handle(multi_, t->easy) != CURLM_OK) {
        if (t->r.error.ok()) t->r.error = status::internal("curl_multi_add_handle failed");
        complete(*t);
        continue;
      }
      CURL* easy = t->easy;
      active_.emplace(easy, std::move(t));
    }
  }

  void complete(transfer& t) {
    ++done_;
    on_done_(t.index, t.r);
    if (done_ == urls_.size()) ctx_.stop();  // curl may keep idle connections watched: we are finished
  }

  // Report an event to curl, then collect what finished.
  void action(curl_socket_t fd, int events) {
    if (closed_) return;
    int running = 0;
    curl_multi_socket_action(multi_, fd, events, &running);
    while (CURLMsg* m = curl_multi_info_read(multi_, &running)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* easy = m->easy_handle;
      const CURLcode code = m->data.result;
      curl_multi_remove_handle(multi_, easy);
      auto it = active_.find(easy);
      if (it == active_.end()) continue;
      std::unique_ptr<transfer> t = std::move(it->second);
      active_.erase(it);
      finish(*t, code);
      complete(*t);
    }
    start_more();
  }

  void arm(const std::shared_ptr<socket_watch>& w) {
    if ((w->wanted & CURL_POLL_IN) && !w->reading) {
      w->reading = true;
      w->desc.async_wait(asio::posix::stream_descriptor::wait_read, [this, w](const asio::error_code& ec) {
        w->reading = false;
        if (ec || w->removed) return;
        action(w->fd, CURL_CSELECT_IN);
        if (!w->removed) arm(w);
      });
    }
    if ((w->wanted & CURL_POLL_OUT) && !w->writing) {
      w->writing = true;
      w->desc.async_wait(asio::posix::stream_descriptor::wait_write, [this, w](const asio::error_code& ec) {
        w->writing = false;
        if (ec || w->removed) return;
        action(w->fd, CURL_CSELECT_OUT);
        if (!w->removed) arm(w);
      });
    }
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
    auto* self = static_cast<multi_driver*>(self_ptr);
    auto it = self->sockets_.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it != self->sockets_.end()) {
        it->second->removed = true;
        it->second->desc.cancel();   // pending waits end with operation_aborted and touch nothing
        it->second->desc.release();  // deregister; curl closes the descriptor itself
        self->sockets_.erase(it);
      }
      return 0;
    }
    if (it == self->sockets_.end())
      it = self->sockets_.emplace(fd, std::make_shared<socket_watch>(self->ctx_, fd)).first;
    it->second->wanted = what;
    self->arm(it->second);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<multi_driver*>(self_ptr);
    if (timeout_ms < 0) {
      self->timer_.cancel();
      return 0;
    }
    // Never call curl back from inside its own callback: even a 0 ms timeout
    // goes through the loop.
    self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer_.async_wait([self](const asio::error_code& ec) {
      if (!ec) self->action(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  const std::vector<std::string>& urls_;
  const fetch_options& o_;
  const std::function<void(std::size_t, fetch_result&)>& on_done_;
  asio::io_context ctx_{1};
  asio::steady_timer timer_;
  CURLM* multi_ = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> active_;
  std::unordered_map<curl_socket_t, std::shared_ptr<socket_watch>> sockets_;
  std::deque<std::size_t> waiting_;
  std::size_t done_ = 0;
  bool closed_ = false;
};

}  // namespace

void fetch_all(const std::vector<std::string>& urls, const fetch_options& o,
               const std::function<void(std::size_t, fetch_result&)>& on_done) {
  if (urls.empty()) return;
  global_init();
  multi_driver driver(urls, o, on_done);
  driver.run();
}

fetch_result fetch_one(const std::string& url, const fetch_options& o) {
  global_init();
  // Each thread keeps a multi handle between calls: its connection cache (and
  // DNS answers) let a worker fetching one URL after another from one origin
  // reuse keep-alive connections instead of opening one per URL. Thread-local:
  // no locking. The transfer runs as curl_easy_perform would run it, on that
  // handle, so that a stop can wake its poll (curl_multi_wakeup is safe from
  // any thread).
  struct thread_multi {
    CURLM* multi = curl_multi_init();
    ~thread_multi() {
      if (multi) curl_multi_cleanup(multi);
    }
  };
  thread_local thread_multi local;
  transfer t;
  if (!configure(t, url, o)) return std::move(t.r);
  if (!local.multi || curl_multi_add_handle(local.multi, t.easy) != CURLM_OK) {
    t.r.error = status::internal("curl_multi_add_handle failed");
    return std::move(t.r);
  }
  CURLM* multi = local.multi;
  const std::stop_callback wake(o.stop, [multi] { curl_multi_wakeup(multi); });
  CURLcode code = CURLE_OK;
  bool done = false;
  while (!done && !o.stop.stop_requested()) {
    int running = 0;
    if (const CURLMcode mc = curl_multi_perform(multi, &running); mc != CURLM_OK) {
      t.r.error = status::internal(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
      break;
    }
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg == CURLMSG_DONE && m->easy_handle == t.easy) {
        code = m->data.result;
        done = true;
      }
    }
    // Waits for the transfer's sockets, curl's own timeout (the request's
    // deadline included), or a wake-up, whichever comes first.
    if (done) break;
    if (const CURLMcode mc = curl_multi_poll(multi, nullptr, 0, 1000, nullptr); mc != CURLM_OK) {
      t.r.error = status::internal(std::string("curl_multi_poll: ") + curl_multi_strerror(mc));
      break;
    }
  }
  curl_multi_remove_handle(multi, t.easy);
  if (done) {
    finish(t, code);
  } else if (t.r.error.ok()) {
    t.r.elapsed = std::chrono::steady_clock::now() - t.start;
    t.r.error = status::cancelled("stopped before the response");
  }
  return std::move(t.r);
}

}  // namespace scalekit::net
