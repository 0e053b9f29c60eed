#include "revoked.h"

namespace scalekit::taskqueue::detail {

void revoked_ids::add(const std::string& id, double now) {
  when_[id] = now;
  order_.emplace_back(id, now);
  purge(now);
}

bool revoked_ids::contains(const std::string& id, double now) {
  purge(now);
  return when_.count(id) != 0;
}

std::vector<std::string> revoked_ids::list(double now) {
  std::vector<std::string> out;
  for (auto& e : entries(now)) out.push_back(std::move(e.first));
  return out;
}

std::vector<std::pair<std::string, double>> revoked_ids::entries(double now) {
  purge(now);
  std::vector<std::pair<std::string, double>> out;
  out.reserve(when_.size());
  for (const auto& [id, t] : order_) {
    const auto it = when_.find(id);
    if (it != when_.end() && it->second == t) out.emplace_back(id, t);
  }
  return out;
}

void revoked_ids::purge(double now) {
  while (!order_.empty()) {
    const auto& [id, t] = order_.front();
    const auto it = when_.find(id);
    const bool current = it != when_.end() && it->second == t;
    if (current && now - t < keep_ && when_.size() <= max_) break;  // the oldest live id stays
    if (current) when_.erase(it);
    order_.pop_front();
  }
  // Re-adds leave stale entries behind: bound them too.
  if (order_.size() > 2 * max_ + 16) {
    std::deque<std::pair<std::string, double>> live;
    for (auto& e : order_)
      if (const auto it = when_.find(e.first); it != when_.end() && it->second == e.second)
        live.push_back(std::move(e));
    order_ = std::move(live);
  }
}

}  // namespace scalekit::taskqueue::detail
