#pragma once
// Internal: the worker's refresher (spec section 5.5). Every quarter of the
// visibility timeout (clamped to 250 ms .. 60 s) it bumps the unacked_index
// score of each reservation whose task is still running (ZADD XX: never
// re-adding one that was acked meanwhile), so that no restorer takes a long
// task for the reservation of a dead worker and delivers it twice.

#include "context.h"

namespace scalekit::taskqueue::detail {

class refresher {
 public:
  explicit refresher(worker_context& w) : w_(w) {}

  /// Refresh until the worker stops. A failed refresh is not retried: the next one comes soon.
  core::task<void> run();

 private:
  worker_context& w_;
};

}  // namespace scalekit::taskqueue::detail
