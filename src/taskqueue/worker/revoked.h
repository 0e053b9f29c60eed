#pragma once
// Internal: the task ids a worker was told to revoke (spec section 12.2), kept
// as Celery's worker keeps them (a LimitedSet): at most `max_ids`, each for
// `keep` after it was last revoked; the oldest go first. Lookups are O(1).
//
// Thread safety: none; the worker's loop owns it.

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace scalekit::taskqueue::detail {

class revoked_ids {
 public:
  /// Celery's REVOKES_MAX and REVOKE_EXPIRES.
  explicit revoked_ids(std::size_t max_ids = 50000, double keep_seconds = 10800) : max_(max_ids), keep_(keep_seconds) {}

  /// Remember `id` as revoked at unix time `now` (again: its time is renewed).
  void add(const std::string& id, double now);
  [[nodiscard]] bool contains(const std::string& id, double now);
  /// The ids remembered at `now`, oldest first.
  [[nodiscard]] std::vector<std::string> list(double now);
  /// The ids remembered at `now` with the unix time each was last revoked, oldest first.
  [[nodiscard]] std::vector<std::pair<std::string, double>> entries(double now);
  [[nodiscard]] std::size_t size() const noexcept { return when_.size(); }

 private:
  void purge(double now);

  std::size_t max_;
  double keep_;
  std::unordered_map<std::string, double> when_;      // id -> last revoked
  std::deque<std::pair<std::string, double>> order_;  // (id, when), oldest first; stale entries skipped
};

}  // namespace scalekit::taskqueue::detail
