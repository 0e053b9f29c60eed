#pragma once
// Internal: putting reservations back into their queues.
//
// - The restorer proper (spec section 5.6): every half visibility timeout
//   (clamped to 500 ms .. 60 s), kombu's restore of stale reservations, those
//   whose unacked_index score is older than the visibility timeout (their
//   worker died): one worker at a time (the unacked_mutex lock, SET NX PX
//   300000, released only by its holder), at most 100 per round, each moved
//   with WATCH/MULTI so that no two workers move the same one, RPUSHed to the
//   consuming end of its list and marked redelivered. Reservations this worker
//   is running are skipped: the refresher was just late.
// - At shutdown (spec section 5.7), every reservation of this worker whose
//   task has not finished goes back once, its delivery not counted (no worker
//   died).
//
// Both use the context's `restore` connection: WATCH is per connection.

#include <string>

#include "context.h"

namespace scalekit::taskqueue::detail {

class restorer {
 public:
  explicit restorer(worker_context& w) : w_(w) {}

  /// Restore stale reservations until the worker stops.
  core::task<void> run();
  /// One round of the restore (nothing when another worker holds the lock).
  /// Counts what it moved in stats.restored.
  core::task<void> restore_stale();
  /// Shutdown: move every unfinished reservation of this worker back to its
  /// list and mark it abandoned; DECR its delivery count. Retried until the
  /// grace (plus 5 s) after the stop has passed. Counts them in stats.requeued.
  core::task<void> requeue_unfinished();

 private:
  core::task<bool> move_back(const std::string& tag, bool watch);

  worker_context& w_;
};

}  // namespace scalekit::taskqueue::detail
