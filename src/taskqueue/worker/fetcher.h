#pragma once
// Internal: the worker's fetcher (spec section 5.1). It takes messages only
// while a slot is free (prefetch_multiplier per slot, 1 by default: a busy
// worker never holds tasks another worker could start), from every priority
// list of every queue, and starts a message_handler::handle coroutine for
// each.
//
// An idle worker waits for Redis to announce a write to one of its lists,
// then takes. The announcement is client tracking's invalidation message: it
// names the key, never the value, where a blocking pop or move would hand the
// idle worker the message itself, of any size, before the take script could
// refuse it. Tracking is armed only while idle (the pop connection reads each
// list's length, which also shows a message that came meanwhile), so a busy
// worker is sent nothing, and an armed key is announced once. Where Redis
// refuses tracking (before 6.0), the wait is the BLMOVE below.
//
// Taking and reserving are one step: a Lua script pops up to the free slots'
// worth of messages and writes each one's reservation (5.2) in the same
// atomic call, so a worker killed at any moment holds nothing that is not in
// `unacked`, where the restorer finds it (kombu's BRPOP-then-MULTI loses a
// message popped by a worker that dies before its MULTI). Scripts cannot
// block, so after a take that found nothing the next one is pipelined behind
// a BLMOVE of the first queue's first list onto its own tail, which moves
// nothing and returns as soon as a message arrives (one round trip, as a
// blocking pop); the other lists are looked at again within 0.5 s (0.1 s
// with several queues). A stop is noticed as fast; a broker that
// fails is retried with a back-off (50 ms to 2 s). Messages taken after the
// stop are put back where they were and their reservations undone, so the
// shutdown's requeue never races a last take.

#include <memory>
#include <string>
#include <unordered_set>
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
  /// first). With `wait` (seconds, as text), first wait that long at most for
  /// the first list to have a message. A failed connection is an error; an
  /// error reply (a list of the wrong type) is an error too, with its text.
  core::task<result<std::vector<fetched>>> take(const std::vector<std::string>& lists, std::size_t want,
                                                const char* wait = nullptr);

  /// Messages taken after the stop: back to their lists' consuming ends, in
  /// their order, reservations and delivery counts undone.
  core::task<void> put_back(std::vector<fetched> taken);

 private:
  enum class armed { yes, written, no, refused };
  /// Subscribe to Redis's announcements of writes to `lists`; false when
  /// Redis refuses to say the subscriber's client id.
  core::task<bool> watch(const std::vector<std::string>& lists);
  /// Ask Redis to announce the next write to each list (tracking, redirected
  /// to the subscriber) by reading their lengths: `written` when one holds a
  /// message already; `no` when the subscriber is not connected or the pop
  /// connection failed; `refused` when Redis refuses tracking.
  core::task<armed> arm(const std::vector<std::string>& lists);
  /// Until a list was written since arm() (or `limit` passed).
  core::task<void> until_written(std::chrono::milliseconds limit);

  worker_context& w_;
  message_handler& handler_;
  std::unique_ptr<redis_subscriber> watch_;  ///< writes to the lists, announced
  std::unordered_set<std::string> watched_;  ///< the lists' keys
  std::unique_ptr<asio::steady_timer> written_timer_;
  bool written_ = false;             ///< a list was written since arm()
  std::uint64_t redirected_to_ = 0;  ///< the subscriber's id the pop connection's tracking goes to
  std::uint64_t redirected_on_ = 0;  ///< on the pop connection of this get_connects()
  std::string script_sha_;           ///< the take script's, once Redis has loaded it
  bool can_wait_ = true;             ///< false: the server has no BLMOVE (before Redis 6.2)
};

}  // namespace scalekit::taskqueue::detail
