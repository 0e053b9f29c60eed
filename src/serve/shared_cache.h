#pragma once
// serve's second cache level (--cache redis://HOST:PORT[/DB]): native
// responses kept in Redis for --cache-ttl seconds, shared by every worker of
// every server pointed at the same Redis.
//
//   request ── worker's LRU ── hit ──────────────────────────> answer
//                  │ miss
//                  └── shared_cache::get (GET, bounded wait) ── hit: kept in the LRU too ──> answer
//                          │ miss, or Redis unreachable
//                          └── compute on a thread ── put (SET EX, in the background) ──> answer
//
// Redis is an optimisation, never a dependency: a lookup that fails or takes
// longer than `lookup_timeout` is a miss, after which Redis is left alone for
// `retry` (lookups return at once); the first failure of an outage is logged,
// and so is the recovery. A lookup that timed out also drops the connection
// (a frozen server or a dead peer never answers on it): the next one opens a new one. Stores are dropped rather than
// queued while it is unreachable or when `max_stores` are already under way.
//
// Thread safety: none; the worker's loop thread only (the Redis client belongs to it).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "scalekit/core/async.h"
#include "scalekit/net/http.h"
#include "scalekit/taskqueue/redis.h"

namespace scalekit::serve {

/// A response as kept in Redis: status 200, its content type, its header
/// fields but X-Cache, its body. decode_cached is nullopt for bytes not made
/// by encode_cached (another program's key, another version's format).
std::string encode_cached(const net::http_response& r);
std::optional<net::http_response> decode_cached(std::string_view bytes);

class shared_cache {
 public:
  struct settings {
    taskqueue::redis_endpoint where;
    std::chrono::seconds ttl{300};                       ///< each entry's life in Redis
    std::chrono::milliseconds lookup_timeout{250};       ///< longer: a miss, and Redis is left alone for `retry`
    std::chrono::milliseconds retry{1000};               ///< how long an unreachable Redis is left alone
    std::size_t max_stores = 64;                         ///< stores under way at once; more are dropped
    std::size_t max_entry_bytes = std::size_t{8} << 20;  ///< larger responses are not stored
  };
  enum class outcome { hit, miss, unavailable };
  struct lookup {
    outcome what = outcome::unavailable;
    net::http_response response;  ///< a hit's
  };

  /// `log` gets one line when Redis becomes unreachable and one when it is back;
  /// one when it refuses to store (full) and one when it stores again.
  shared_cache(asio::any_io_executor loop, settings s, std::function<void(const std::string&)> log);

  /// The response stored under `key`. Never fails: a miss when Redis does not
  /// have it, unavailable when Redis is (or has just been found) unreachable.
  core::task<lookup> get(std::string key);
  /// Store `r` (a 200) under `key` for the ttl, in the background.
  void put(const std::string& key, const net::http_response& r);

 private:
  struct race;
  static core::task<void> send(std::shared_ptr<race> r, taskqueue::redis_client& db, std::vector<std::string> cmd);
  static core::task<void> store(shared_cache* self, std::vector<std::string> cmd);
  void connect();
  [[nodiscard]] bool usable() const;
  void unreachable(const std::string& why);
  void reachable();
  void refused(const std::string& why);
  void stored();
  [[nodiscard]] std::string redis_key(const std::string& key) const { return "scalekit:serve:cache:v1:" + key; }

  asio::any_io_executor loop_;
  settings s_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<taskqueue::redis_client> db_;
  bool down_ = false;
  std::chrono::steady_clock::time_point down_until_{};
  std::size_t stores_ = 0;
  // Redis answers but refuses to store (full with noeviction, read-only): lookups go on,
  // stores wait for `retry`; said once, not once per lookup that finds it reachable.
  bool refusing_ = false;
  std::chrono::steady_clock::time_point refusing_until_{};
};

}  // namespace scalekit::serve
