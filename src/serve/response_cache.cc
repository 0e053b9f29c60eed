#include "response_cache.h"

#include <fmt/format.h>

namespace scalekit::serve {

std::string entity_tag(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : body) h = (h ^ c) * 1099511628211ULL;
  return fmt::format("\"{:016x}\"", h);
}

std::optional<net::http_response> response_cache::get(const std::string& key) {
  std::scoped_lock lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->response;
}

void response_cache::put(const std::string& key, const net::http_response& r) {
  const std::size_t size = key.size() + r.body.size() + 256;  // 256: the entry's own keeping, roughly
  if (size > max_bytes_) return;
  std::scoped_lock lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {  // two threads made the same response
    bytes_ -= it->second->size;
    lru_.erase(it->second);
    index_.erase(it);
  }
  while (bytes_ + size > max_bytes_ && !lru_.empty()) {
    index_.erase(lru_.back().key);
    bytes_ -= lru_.back().size;
    lru_.pop_back();
  }
  lru_.push_front(entry{key, r, size});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += size;
}

std::size_t response_cache::bytes() const {
  std::scoped_lock lock(mutex_);
  return bytes_;
}

}  // namespace scalekit::serve
