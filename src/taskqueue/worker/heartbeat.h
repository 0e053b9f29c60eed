#pragma once
// Internal: the worker's heartbeat (spec section 8). Every 2 s, in one
// pipeline: SETEX scalekit-worker-<name>-<pid> (10 s) with the worker's status
// (what query_status() reads for `worker --status`), and a PUBLISH of
// Celery's worker-heartbeat event for monitoring tools. A missed heartbeat is
// harmless: nothing is retried.

#include <string>

#include "context.h"

namespace scalekit::taskqueue::detail {

class heartbeat {
 public:
  explicit heartbeat(worker_context& w);

  /// Beat until the worker stops.
  core::task<void> run();
  /// Delete the status key, so that `worker --status` stops listing this worker at once.
  core::task<void> goodbye();

 private:
  worker_context& w_;
  const std::string key_;
};

}  // namespace scalekit::taskqueue::detail
