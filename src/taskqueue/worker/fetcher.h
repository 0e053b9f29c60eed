#pragma once
// Internal: the worker's fetcher (spec section 5.1). It pops messages only
// while a slot is free (prefetch_multiplier per slot, 1 by default: a busy
// worker never holds tasks another worker could start), from every priority
// list of every queue, and starts a message_handler::handle coroutine for
// each. Several free slots are filled with one BLMPOP (Redis 7); older
// servers get one BRPOP per message. Pops block at most 1 s, so that a stop
// is noticed; a broker that fails is retried with a back-off (50 ms to 2 s).
// Messages a pop returns after the stop are pushed back where they were,
// unreserved, so the shutdown's requeue never races a last pop.

#include "context.h"
#include "handler.h"

namespace scalekit::taskqueue::detail {

class fetcher {
 public:
  fetcher(worker_context& w, message_handler& handler) : w_(w), handler_(handler) {}

  /// Fetch until the worker stops. Handles it started may still be running
  /// when it returns.
  core::task<void> run();

 private:
  // A pop that returned after the stop: its messages go back unreserved.
  core::task<void> put_back(redis_reply popped);

  worker_context& w_;
  message_handler& handler_;
};

}  // namespace scalekit::taskqueue::detail
