// hiredis's async API on Asio. hiredis asks its event library to watch the
// socket (ev.addRead / addWrite / del* / cleanup); a `watcher` does that with
// a posix::stream_descriptor and calls redisAsyncHandleRead/Write back.
// Replies are copied and handed to the waiting coroutine through post(), so a
// coroutine never resumes inside a hiredis callback.

#include "scalekit/taskqueue/redis.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <asio/posix/stream_descriptor.hpp>
#include <charconv>
#include <unordered_set>

namespace scalekit::taskqueue {

namespace {

// Wait in a coroutine for `start` to call its completion once; the completion
// may come from any callback on the loop and resumes the coroutine via post().
template <typename T>
core::task<T> wait_for(asio::any_io_executor ex, std::function<void(std::function<void(T)>)> start) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [ex](auto handler, std::function<void(std::function<void(T)>)> begin) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        begin([h, ex](T v) { asio::post(ex, [h, v = std::move(v)]() mutable { (*h)(std::move(v)); }); });
      },
      asio::use_awaitable, std::move(start));
}

redis_reply copy_reply(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; break;
    case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; break;
    case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; break;
    case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; break;
    case REDIS_REPLY_ARRAY: out.type = redis_reply::kind::array; break;
    default: out.type = redis_reply::kind::nil; break;
  }
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    out.str.assign(r->str, r->len);
  if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
  }
  return out;
}

// Send argv on `ac` with `fn(ac, reply, privdata)` as the callback.
int send_argv(redisAsyncContext* ac, redisCallbackFn* fn, void* privdata, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ac, fn, privdata, static_cast<int>(argv.size()), args.data(), lens.data());
}

// Watches one hiredis context's socket for it. Lives until hiredis's cleanup
// hook, and as long as a pending wait holds it.
struct watcher : std::enable_shared_from_this<watcher> {
  watcher(asio::any_io_executor ex, redisAsyncContext* context) : ac(context), desc(ex, context->c.fd) {}
  redisAsyncContext* ac;
  asio::posix::stream_descriptor desc;
  bool want_read = false, want_write = false, reading = false, writing = false, dead = false;
  std::shared_ptr<watcher> self;  // keeps us alive while hiredis owns ev.data

  static std::shared_ptr<watcher> attach(asio::any_io_executor ex, redisAsyncContext* ac) {
    auto w = std::make_shared<watcher>(ex, ac);
    w->self = w;
    ac->ev.data = w.get();
    ac->ev.addRead = [](void* p) { static_cast<watcher*>(p)->want(true, true); };
    ac->ev.delRead = [](void* p) { static_cast<watcher*>(p)->want_read = false; };
    ac->ev.addWrite = [](void* p) { static_cast<watcher*>(p)->want(false, true); };
    ac->ev.delWrite = [](void* p) { static_cast<watcher*>(p)->want_write = false; };
    ac->ev.cleanup = [](void* p) { static_cast<watcher*>(p)->detach(); };
    return w;
  }

  void want(bool read, bool on) {
    (read ? want_read : want_write) = on;
    arm();
  }

  void arm() {
    if (dead) return;
    if (want_read && !reading) {
      reading = true;
      desc.async_wait(asio::posix::stream_descriptor::wait_read, [w = shared_from_this()](const asio::error_code& ec) {
        w->reading = false;
        if (ec || w->dead) return;
        if (w->want_read) redisAsyncHandleRead(w->ac);  // may free the context: then `dead` is set
        w->arm();
      });
    }
    if (want_write && !writing) {
      writing = true;
      desc.async_wait(asio::posix::stream_descriptor::wait_write, [w = shared_from_this()](const asio::error_code& ec) {
        w->writing = false;
        if (ec || w->dead) return;
        if (w->want_write) redisAsyncHandleWrite(w->ac);
        w->arm();
      });
    }
  }

  // hiredis is freeing the context: stop watching; the descriptor is hiredis's to close.
  void detach() {
    dead = true;
    asio::error_code ignored;
    desc.cancel(ignored);
    desc.release();
    auto keep = std::move(self);  // the last pending wait, if any, frees us
  }
};

constexpr std::chrono::milliseconds min_backoff{50}, max_backoff{2000};

}  // namespace

// ---- endpoint ----

std::string redis_endpoint::to_string() const {
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;  // IPv6
  return "redis://" + shown + ":" + std::to_string(port) + "/" + std::to_string(db);
}

namespace {

// `url` as an error may show it: a password in it becomes "***", since errors
// go to logs and terminals.
std::string without_password(const std::string& url) {
  const auto start = url.find("://");
  const auto at = url.rfind('@');
  if (start == std::string::npos || at == std::string::npos || at < start) return url;
  const auto colon = url.find(':', start + 3);
  const auto secret = colon != std::string::npos && colon < at ? colon + 1 : start + 3;
  return url.substr(0, secret) + "***" + url.substr(at);
}

}  // namespace

result<redis_endpoint> redis_endpoint::parse(const std::string& url) {
  const std::string scheme = "redis://";
  const std::string shown = without_password(url);
  if (url.rfind(scheme, 0) != 0) return status::invalid_argument("'" + shown + "': not a redis:// URL");
  redis_endpoint e;
  std::string rest = url.substr(scheme.size());
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (const auto colon = auth.find(':'); colon != std::string::npos) auth = auth.substr(colon + 1);  // user:password
    e.password = auth;
  }
  std::string hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    const std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      int v = -1;
      const auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), v);
      if (ec != std::errc() || p != db.data() + db.size() || v < 0 || v > 15)
        return status::invalid_argument("'" + shown + "': the database must be a number from 0 to 15");
      e.db = v;
    }
  }
  // HOST, HOST:PORT, [IPv6] or [IPv6]:PORT: anything else is refused here,
  // not retried forever as a broker that does not answer.
  std::string host = hostport, port;
  bool has_port = false;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string::npos) return status::invalid_argument("'" + shown + "': '[' without ']'");
    host = hostport.substr(1, close - 1);
    const std::string after = hostport.substr(close + 1);
    if (!after.empty() && after[0] != ':') return status::invalid_argument("'" + shown + "': text after ']'");
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      return status::invalid_argument("'" + shown + "': '" + host + "' is not an IPv6 address");
  } else if (const auto colon = hostport.find(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    has_port = true;
    if (port.find(':') != std::string::npos)
      return status::invalid_argument("'" + shown + "': an IPv6 address goes in brackets, [::1]");
  }
  if (host.find_first_of("[]/?#@ \t") != std::string::npos)
    return status::invalid_argument("'" + shown + "': '" + host + "' is not a host name");
  if (has_port) {
    int v = -1;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v < 1 || v > 65535)
      return status::invalid_argument("'" + shown + "': bad port '" + port + "'");
    e.port = static_cast<std::uint16_t>(v);
  }
  if (!host.empty()) e.host = host;
  if (e.host == "localhost") e.host = "127.0.0.1";  // hiredis connects by address
  return e;
}

// ---- client ----

struct redis_client::connection {
  redisAsyncContext* ac = nullptr;
  std::shared_ptr<watcher> w;
  bool connected = false, lost = false;
  std::string why;                                   // when lost
  std::vector<std::function<void(status)>> waiters;  // ensure_connected() callers

  void finish_connect(const status& s) {
    auto ws = std::move(waiters);
    waiters.clear();
    for (auto& f : ws) f(s);
  }
};

namespace {

// One command's completion, passed to hiredis as privdata.
struct pending_command {
  std::function<void(result<redis_reply>)> done;
};

void on_command_reply(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<pending_command> p(static_cast<pending_command*>(privdata));
  if (r == nullptr) {
    p->done(status::io_error("redis: connection lost before the reply"));
  } else {
    p->done(copy_reply(static_cast<redisReply*>(r)));
  }
}

}  // namespace

redis_client::redis_client(asio::any_io_executor ex, redis_endpoint endpoint)
    : ex_(std::move(ex)), endpoint_(std::move(endpoint)) {}

redis_client::~redis_client() {
  if (conn_ && conn_->ac && !conn_->lost) {
    conn_->lost = true;
    redisAsyncContext* ac = conn_->ac;
    conn_->ac = nullptr;
    ac->data = nullptr;
    redisAsyncFree(ac);  // pending commands complete (connection lost); cleanup detaches the watcher
  }
}

core::task<status> redis_client::ensure_connected() {
  if (conn_ && conn_->connected && !conn_->lost) co_return status{};
  if (!conn_ || conn_->lost) {
    auto c = std::make_shared<connection>();
    redisAsyncContext* ac = redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port);
    if (ac == nullptr) co_return status::io_error("redis: out of memory");
    if (ac->err) {
      const std::string why = ac->errstr;
      redisAsyncFree(ac);
      co_return status::io_error("redis " + endpoint_.to_string() + ": " + why);
    }
    c->ac = ac;
    ac->data = c.get();
    c->w = watcher::attach(ex_, ac);
    redisAsyncSetConnectCallback(ac, [](const redisAsyncContext* a, int st) {
      auto* cn = static_cast<connection*>(a->data);
      if (cn == nullptr) return;
      if (st != REDIS_OK) {
        cn->lost = true;
        cn->why = a->errstr ? a->errstr : "connect failed";
        cn->ac = nullptr;  // hiredis frees the context after this callback
        cn->finish_connect(status::io_error("redis: " + cn->why));
      }
      // On success the AUTH/SELECT replies (or a PING) finish the connect.
    });
    redisAsyncSetDisconnectCallback(ac, [](const redisAsyncContext* a, int) {
      auto* cn = static_cast<connection*>(a->data);
      if (cn == nullptr) return;
      cn->lost = true;
      cn->why = a->errstr ? a->errstr : "disconnected";
      cn->ac = nullptr;
      cn->finish_connect(status::io_error("redis: " + cn->why));
    });
    // The first commands on the connection: AUTH, SELECT, or a PING, whose
    // reply says the connection works.
    std::vector<std::vector<std::string>> setup;
    if (!endpoint_.password.empty()) setup.push_back(words("AUTH", endpoint_.password));
    if (endpoint_.db != 0) setup.push_back(words("SELECT", std::to_string(endpoint_.db)));
    if (setup.empty()) setup.push_back(words("PING"));
    auto remaining = std::make_shared<std::size_t>(setup.size());
    auto failure = std::make_shared<std::string>();
    std::weak_ptr<connection> weak = c;
    for (auto& cmd : setup) {
      const std::string verb = cmd[0];
      auto* p = new pending_command{[weak, remaining, failure, verb](result<redis_reply> r) {
        if (!r.ok()) return;  // the connect/disconnect callback reports it
        if (r->is_error() && failure->empty()) *failure = verb + " failed: " + r->str;
        if (--*remaining > 0) return;
        auto cn = weak.lock();
        if (!cn || cn->lost) return;
        if (failure->empty()) {
          cn->connected = true;
          cn->finish_connect(status{});
        } else {
          cn->finish_connect(status::invalid_argument("redis: " + *failure));
        }
      }};
      send_argv(ac, on_command_reply, p, cmd);
    }
    conn_ = c;
    ++connects_;
  }
  auto c = conn_;
  // Wait for the connection, with a deadline.
  asio::steady_timer timer(ex_, connect_timeout_);
  auto done = std::make_shared<bool>(false);
  timer.async_wait([c, done, this](const asio::error_code& ec) {
    if (ec || *done || c->connected || c->lost) return;
    c->lost = true;
    c->why = "timed out connecting";
    if (c->ac) {
      redisAsyncContext* ac = c->ac;
      c->ac = nullptr;
      ac->data = nullptr;
      redisAsyncFree(ac);
    }
    c->finish_connect(status::timeout("redis " + endpoint_.to_string() + ": no connection within " +
                                      std::to_string(connect_timeout_.count()) + " ms"));
  });
  std::function<void(std::function<void(status)>)> start = [c](std::function<void(status)> f) {
    if (c->connected) return f(status{});
    if (c->lost) return f(status::io_error("redis: " + c->why));
    c->waiters.push_back(std::move(f));
  };
  status s = co_await wait_for<status>(ex_, std::move(start));
  *done = true;
  timer.cancel();
  if (!s.ok() && conn_ == c && c->ac) {  // AUTH or SELECT refused: do not keep the connection
    c->lost = true;
    redisAsyncContext* ac = c->ac;
    c->ac = nullptr;
    ac->data = nullptr;
    redisAsyncFree(ac);
  }
  co_return s;
}

core::task<result<redis_reply>> redis_client::command(std::vector<std::string> argv) {
  std::vector<std::vector<std::string>> one;
  one.push_back(std::move(argv));
  auto rs = co_await pipeline(std::move(one));
  if (!rs.ok()) co_return rs.error();
  co_return std::move(rs.value()[0]);
}

core::task<result<std::vector<redis_reply>>> redis_client::pipeline(std::vector<std::vector<std::string>> commands) {
  if (commands.empty()) co_return std::vector<redis_reply>{};
  const status s = co_await ensure_connected();
  if (!s.ok()) co_return s;
  auto c = conn_;
  using outcome = result<std::vector<redis_reply>>;
  // The starter is a named local, not a temporary inside the co_await: GCC 12
  // destroys such temporaries twice (a workaround listed in docs/DESIGN.md).
  std::function<void(std::function<void(outcome)>)> start =
      [c, cmds = std::move(commands)](std::function<void(outcome)> f) {
        if (c->lost || !c->ac) return f(status::io_error("redis: connection lost"));
        struct gather {
          std::vector<redis_reply> replies;
          std::size_t remaining;
          status failure;
          std::function<void(outcome)> done;
        };
        auto g = std::make_shared<gather>();
        g->replies.resize(cmds.size());
        g->remaining = cmds.size();
        g->done = std::move(f);
        for (std::size_t i = 0; i < cmds.size(); ++i) {
          auto* p = new pending_command{[g, i](result<redis_reply> r) {
            if (r.ok()) {
              g->replies[i] = std::move(r).value();
            } else if (g->failure.ok()) {
              g->failure = r.error();
            }
            if (--g->remaining > 0) return;
            if (g->failure.ok()) {
              g->done(std::move(g->replies));
            } else {
              g->done(g->failure);
            }
          }};
          if (send_argv(c->ac, on_command_reply, p, cmds[i]) != REDIS_OK) {
            // hiredis refused the command (the context is disconnecting): it will not call back.
            p->done(status::io_error("redis: connection lost"));
            delete p;
          }
        }
      };
  outcome r = co_await wait_for<outcome>(ex_, std::move(start));
  co_return r;
}

// ---- subscriber ----

struct redis_subscriber::state : std::enable_shared_from_this<state> {
  asio::any_io_executor ex;
  redis_endpoint endpoint;
  message_fn on_message;
  std::function<void()> on_resubscribed;
  redisAsyncContext* ac = nullptr;
  std::shared_ptr<watcher> w;
  bool closing = false, reconnect_scheduled = false, ever_connected = false;
  std::chrono::milliseconds backoff = min_backoff;
  bool want_id = false;
  std::uint64_t id = 0;                          // CLIENT ID's, when want_id
  std::unordered_set<std::string> channels;      // wanted
  std::unordered_set<std::string> confirm_wait;  // sent, not yet confirmed
  std::vector<std::function<void(status)>> confirm_waiters;
  std::unique_ptr<asio::steady_timer> retry_timer;

  static void on_reply(redisAsyncContext* a, void* r, void*) {
    auto* self = static_cast<state*>(a->data);
    if (self == nullptr || r == nullptr) return;
    const auto* reply = static_cast<redisReply*>(r);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    const std::string kind(reply->element[0]->str, reply->element[0]->len);
    const std::string channel(reply->element[1]->str ? reply->element[1]->str : "",
                              reply->element[1]->str ? reply->element[1]->len : 0);
    const redisReply* body = reply->element[2];
    // A tracking announcement's payload is an array of key names: a message each.
    const bool keys = kind == "message" && body->type == REDIS_REPLY_ARRAY;
    for (std::size_t i = 0; keys && i < body->elements; ++i) self->deliver(channel, body->element[i]);
    if (kind == "message" && !keys) {
      self->deliver(channel, body);
    } else if (kind == "subscribe") {
      self->confirm_wait.erase(channel);
      if (self->confirm_wait.empty()) self->confirmed(status{});
    }
  }

  static void on_client_id(redisAsyncContext* a, void* r, void*) {
    auto* self = static_cast<state*>(a->data);
    const auto* reply = static_cast<redisReply*>(r);
    if (self != nullptr && reply != nullptr && reply->type == REDIS_REPLY_INTEGER)
      self->id = static_cast<std::uint64_t>(reply->integer);
  }

  void deliver(const std::string& channel, const redisReply* body) {
    if (body->type != REDIS_REPLY_STRING) return;
    // Handed over through the loop: the callback may subscribe or unsubscribe.
    asio::post(ex, [s = shared_from_this(), channel, payload = std::string(body->str, body->len)] {
      if (!s->closing) s->on_message(channel, payload);
    });
  }

  void confirmed(const status& s) {
    auto ws = std::move(confirm_waiters);
    confirm_waiters.clear();
    for (auto& f : ws) asio::post(ex, [f, s] { f(s); });
  }

  void connect() {
    if (closing || ac) return;
    redisAsyncContext* c = redisAsyncConnect(endpoint.host.c_str(), endpoint.port);
    if (c == nullptr || c->err) {
      if (c) redisAsyncFree(c);
      schedule_reconnect();
      return;
    }
    ac = c;
    c->data = this;
    w = watcher::attach(ex, c);
    redisAsyncSetConnectCallback(c, [](const redisAsyncContext* a, int st) {
      auto* self = static_cast<state*>(a->data);
      if (self && st != REDIS_OK) self->lost();
    });
    redisAsyncSetDisconnectCallback(c, [](const redisAsyncContext* a, int) {
      auto* self = static_cast<state*>(a->data);
      if (self) self->lost();
    });
    std::vector<std::vector<std::string>> setup;
    if (!endpoint.password.empty()) setup.push_back({"AUTH", endpoint.password});
    if (endpoint.db != 0) setup.push_back({"SELECT", std::to_string(endpoint.db)});
    for (auto& cmd : setup) send_argv(c, nullptr, nullptr, cmd);
    if (want_id) send_argv(c, on_client_id, nullptr, {"CLIENT", "ID"});  // answered before the subscription
    if (!channels.empty()) send_subscribe(std::vector<std::string>(channels.begin(), channels.end()));
    if (ever_connected && on_resubscribed) {
      // After the subscriptions are confirmed the owner fetches what it may have missed.
      confirm_waiters.push_back([s = shared_from_this()](const status& st) {
        if (st.ok() && !s->closing) s->on_resubscribed();
      });
    }
    ever_connected = true;
  }

  void send_subscribe(const std::vector<std::string>& chans) {
    std::vector<std::string> argv{"SUBSCRIBE"};
    argv.insert(argv.end(), chans.begin(), chans.end());
    confirm_wait.insert(chans.begin(), chans.end());
    send_argv(ac, on_reply, nullptr, argv);
  }

  void lost() {
    ac = nullptr;  // hiredis frees the context after this callback
    id = 0;
    confirm_wait.clear();
    confirmed(status::io_error("redis: subscriber connection lost"));
    backoff = std::min(max_backoff, backoff * 2);
    schedule_reconnect();
  }

  void schedule_reconnect() {
    if (closing || reconnect_scheduled) return;
    reconnect_scheduled = true;
    retry_timer = std::make_unique<asio::steady_timer>(ex, backoff);
    retry_timer->async_wait([s = shared_from_this()](const asio::error_code& ec) {
      s->reconnect_scheduled = false;
      if (!ec) s->connect();
    });
  }
};

redis_subscriber::redis_subscriber(asio::any_io_executor ex, redis_endpoint endpoint, message_fn on_message,
                                   std::function<void()> on_resubscribed)
    : st_(std::make_shared<state>()) {
  st_->ex = std::move(ex);
  st_->endpoint = std::move(endpoint);
  st_->on_message = std::move(on_message);
  st_->on_resubscribed = std::move(on_resubscribed);
}

redis_subscriber::~redis_subscriber() {
  st_->closing = true;
  if (st_->retry_timer) st_->retry_timer->cancel();
  if (st_->ac) {
    redisAsyncContext* ac = st_->ac;
    st_->ac = nullptr;
    ac->data = nullptr;
    redisAsyncFree(ac);
  }
}

core::task<status> redis_subscriber::subscribe(std::vector<std::string> channels) {
  auto s = st_;
  s->channels.insert(channels.begin(), channels.end());
  if (!s->ac) {
    s->connect();  // subscribes to every wanted channel, these included
  } else {
    s->send_subscribe(channels);
  }
  if (!s->ac) co_return status::io_error("redis: cannot connect the subscriber to " + s->endpoint.to_string());
  if (s->confirm_wait.empty()) co_return status{};
  std::function<void(std::function<void(status)>)> start = [s](std::function<void(status)> f) {
    if (s->confirm_wait.empty()) return f(status{});
    s->confirm_waiters.push_back(std::move(f));
  };
  status confirmed = co_await wait_for<status>(s->ex, std::move(start));
  co_return confirmed;
}

void redis_subscriber::learn_client_id() { st_->want_id = true; }

std::uint64_t redis_subscriber::get_client_id() const noexcept { return st_->id; }

void redis_subscriber::unsubscribe(const std::vector<std::string>& channels) {
  for (const auto& c : channels) st_->channels.erase(c);
  if (st_->ac && !channels.empty()) {
    std::vector<std::string> argv{"UNSUBSCRIBE"};
    argv.insert(argv.end(), channels.begin(), channels.end());
    send_argv(st_->ac, state::on_reply, nullptr, argv);
  }
}

std::size_t redis_subscriber::get_channel_count() const noexcept { return st_->channels.size(); }

}  // namespace scalekit::taskqueue
