#pragma once
// A worker's cache of native responses (chapter 5's caching): whole 200
// responses by their path and query, least recently used first out, bounded
// in bytes; each with a strong ETag, so a client that has it gets 304.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "scalekit/net/http.h"

namespace scalekit::serve {

/// A strong entity tag of `body`: "\"<16 hex digits>\"" (a 64-bit FNV-1a hash).
std::string entity_tag(std::string_view body);

/// Thread-safe.
class response_cache {
 public:
  /// Holds at most `max_bytes` of bodies and keys (0: holds nothing).
  explicit response_cache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// The response stored under `key`, now the most recently used.
  std::optional<net::http_response> get(const std::string& key);
  /// Store `r` (a 200 carrying its ETag header) under `key`, evicting the
  /// least recently used until it fits; one larger than the whole cache is not kept.
  void put(const std::string& key, const net::http_response& r);

  [[nodiscard]] std::size_t bytes() const;

 private:
  struct entry {
    std::string key;
    net::http_response response;
    std::size_t size = 0;
  };
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<entry> lru_;  // front: most recently used (guarded by mutex_)
  std::unordered_map<std::string_view, std::list<entry>::iterator> index_;  // keys point into lru_
  std::size_t bytes_ = 0;
};

}  // namespace scalekit::serve
