#pragma once
// Internal: mingle, as a starting Celery worker does it (spec section 12.2):
// before the first fetch, ask the workers already listening on the pidbox
// channel for the task ids they were told to revoke (`hello`), and take them.
// It waits at most a second, and not at all when nobody listens; it stops
// waiting as soon as every listener has replied.

#include <nlohmann/json.hpp>

#include "context.h"

namespace scalekit::taskqueue::detail {

/// Sync with the other workers; logs what it got. Never fails the worker: a
/// broker that does not answer is a line in the log.
core::task<void> mingle(worker_context& w);

/// Add the ids of a hello's or its reply's "revoked" (Celery's LimitedSet
/// data {id: [time, id]}, or a list of ids) to w's, revoked from `now` (a
/// time on another machine's clock means nothing here). Returns how many.
std::size_t take_revoked(worker_context& w, const nlohmann::json& revoked, double now);

}  // namespace scalekit::taskqueue::detail
