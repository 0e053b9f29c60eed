#pragma once
// A Redis client for the distributed queue: hiredis's asynchronous API driven
// by the core event loop (Asio), in coroutines.
//
//   taskqueue::redis_client db(co_await core::this_executor(), endpoint);
//   auto r = co_await db.command({"LPUSH", "celery", message});     // result<redis_reply>
//   auto rs = co_await db.pipeline({{"MULTI"}, {"ZADD", ...}, {"HSET", ...}, {"EXEC"}});
//
// The connection is opened on first use (AUTH and SELECT first when the
// endpoint asks for them) and again after it is lost: a command that fails
// because the server went away returns an io_error, and the next command
// reconnects. Callers decide whether and when to retry.
//
// Replies are copied out of hiredis into redis_reply values, so they outlive
// the callback that delivered them. Commands on one client are sent in order
// and pipelined: several coroutines may share a client.
//
// Thread safety: a client belongs to the loop (executor) it was made with;
// call it only from coroutines running there.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scalekit/core/async.h"
#include "scalekit/core/status.h"

namespace scalekit::taskqueue {

/// Where a Redis server is, parsed from redis://[:PASSWORD@]HOST[:PORT][/DB].
struct redis_endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;
  int db = 0;
  /// The URL again, without the password.
  [[nodiscard]] std::string to_string() const;
  /// @return invalid_argument naming the problem when `url` is not a Redis URL.
  static result<redis_endpoint> parse(const std::string& url);
};

/// A command's words: words("SET", key, value). Use it (or a named vector)
/// rather than a braced list inside a co_await expression: GCC 12 fails on the
/// list's backing array there ("array used as initializer").
/// (A workaround listed in docs/DESIGN.md.)
template <typename... Word>
std::vector<std::string> words(Word&&... w) {
  std::vector<std::string> v;
  v.reserve(sizeof...(Word));
  (v.emplace_back(std::forward<Word>(w)), ...);
  return v;
}

/// Several commands for pipeline(): commands(words("MULTI"), words("INCR", "n"), words("EXEC")).
template <typename... Command>
std::vector<std::vector<std::string>> commands(Command&&... c) {
  std::vector<std::vector<std::string>> v;
  v.reserve(sizeof...(Command));
  (v.push_back(std::forward<Command>(c)), ...);
  return v;
}

/// A reply, copied out of hiredis.
struct redis_reply {
  enum class kind { nil, integer, string, status, error, array };
  kind type = kind::nil;
  long long integer = 0;
  std::string str;                    ///< string, status and error replies
  std::vector<redis_reply> elements;  ///< array replies
  [[nodiscard]] bool is_nil() const noexcept { return type == kind::nil; }
  [[nodiscard]] bool is_error() const noexcept { return type == kind::error; }
};

class redis_client {
 public:
  redis_client(asio::any_io_executor ex, redis_endpoint endpoint);
  ~redis_client();  ///< closes the connection; pending commands complete with `cancelled`
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  /// Send one command and wait for its reply. An error *reply* (e.g. WRONGTYPE)
  /// is a value with type error; a failed *connection* is a non-OK status.
  core::task<result<redis_reply>> command(std::vector<std::string> argv);

  /// Send several commands back to back, then wait for all their replies (in
  /// order). Fails as a whole when the connection fails.
  core::task<result<std::vector<redis_reply>>> pipeline(std::vector<std::vector<std::string>> commands);

  /// Bound the time to connect (default 5 s).
  void set_connect_timeout(std::chrono::milliseconds t) { connect_timeout_ = t; }
  [[nodiscard]] const redis_endpoint& endpoint() const noexcept { return endpoint_; }
  /// Connections opened so far (1 for a connection never lost).
  [[nodiscard]] std::uint64_t get_connects() const noexcept { return connects_; }

 private:
  struct connection;
  core::task<status> ensure_connected();
  asio::any_io_executor ex_;
  redis_endpoint endpoint_;
  std::chrono::milliseconds connect_timeout_{5000};
  std::shared_ptr<connection> conn_;
  std::uint64_t connects_ = 0;
};

/// A subscriber: SUBSCRIBE on a connection of its own; on_message(channel,
/// payload) for every message. After a lost connection it reconnects (with a
/// back-off) and subscribes again, then calls on_resubscribed so that the
/// owner can fetch what it may have missed.
class redis_subscriber {
 public:
  using message_fn = std::function<void(const std::string& channel, const std::string& payload)>;
  redis_subscriber(asio::any_io_executor ex, redis_endpoint endpoint, message_fn on_message,
                   std::function<void()> on_resubscribed = {});
  ~redis_subscriber();
  redis_subscriber(const redis_subscriber&) = delete;
  redis_subscriber& operator=(const redis_subscriber&) = delete;

  /// Subscribe to more channels; returns once Redis has confirmed them (or the
  /// connection failed: they will be subscribed again on reconnect).
  core::task<status> subscribe(std::vector<std::string> channels);
  /// Stop receiving these channels.
  void unsubscribe(const std::vector<std::string>& channels);
  /// Before the first subscribe: learn the connection's client id at each
  /// (re)connection, so that another connection's CLIENT TRACKING can
  /// REDIRECT Redis's announcements of writes here (channel
  /// "__redis__:invalidate"; a message per key written, the key its payload).
  void learn_client_id();
  /// The connection's client id; 0 before it is known or while disconnected.
  [[nodiscard]] std::uint64_t get_client_id() const noexcept;
  [[nodiscard]] std::size_t get_channel_count() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> st_;
};

}  // namespace scalekit::taskqueue
