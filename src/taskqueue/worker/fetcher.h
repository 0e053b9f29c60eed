#pragma once
// Internal: the worker's fetcher (spec section 5.1). It takes messages only
// while a slot is free (prefetch_multiplier per slot, 1 by default: a busy
// worker never holds tasks another worker could start), from every priority
// list of every queue, and starts a message_handler::handle coroutine for
// each.
//
// Taking and reserving are one step: a Lua script pops up to the free slots'
// worth of messages and writes each one's reservation (5.2) in the same
// atomic call, so a worker killed at any moment holds nothing that is not in
// `unacked`, where the restorer finds it (kombu's BRPOP-then-MULTI loses a
// message popped by a worker that dies before its MULTI). Scripts cannot
// block, so when every list is empty the fetcher waits with a BLMOVE of the
// first queue's first list onto its own tail, which moves nothing and wakes
// as soon as a message arrives; the other lists are looked at again within
// 0.5 s (0.1 s with several queues). A stop is noticed as fast; a broker that
// fails is retried with a back-off (50 ms to 2 s). Messages taken after the
// stop are put back where they were and their reservations undone, so the
// shutdown's requeue never races a last take.

#include <string>
#include <vector>

#include "context.h"
#include "handler.h"

namespace scalekit::taskqueue::detail {

class fetcher {
 public:
  fetcher(worker_context& w, message_handler& handler) : w_(w), handler_(handler) {}

  /// Fetch until the worker stops. Handles it started may still be running
  /// when it returns.
  core::task<void> run();

  /// Take and reserve at most `want` messages from `lists` (highest priority
  /// first), without waiting. A failed connection is an error; an error reply
  /// (a list of the wrong type) is an error too, with the reply's text.
  core::task<result<std::vector<fetched>>> take(const std::vector<std::string>& lists, std::size_t want);

  /// Messages taken after the stop: back to their lists' consuming ends, in
  /// their order, reservations and delivery counts undone.
  core::task<void> put_back(std::vector<fetched> taken);

 private:
  // Wait until `list` has a message, at most `timeout` seconds; false when
  // the server cannot (before Redis 6.2), and the caller naps instead.
  core::task<bool> wait_for(const std::string& list, const char* timeout);

  worker_context& w_;
  message_handler& handler_;
  std::string script_sha_;  ///< the take script's, once Redis has loaded it
};

}  // namespace scalekit::taskqueue::detail
