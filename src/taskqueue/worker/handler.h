#pragma once
// Internal: the life of one message in a worker (spec section 5.2 to 5.4).
//
//   larger than max_message_bytes: dead-lettered by the take script ──> FAILURE LimitExceeded
//   parse ──bad──> dead letter (+ FAILURE DecodeError when its id is readable)
//     │
//   reserve: unacked + unacked_index + INCR deliveries, one transaction
//           (already done by the fetcher's take for the messages it could
//           read: then the handler only records the reservation)
//     │
//   decide: unregistered -> NotRegistered; revoked or expired -> REVOKED;
//           delivered too often -> dead letter + WorkerLostError;
//           an eta or countdown ahead, or the task's rate limit -> wait for
//           it holding no slot (as Celery holds them outside its pool), the
//           reservation kept fresh;
//           then run it on the executor (the slot is free again as soon as it
//           has run); a time limit (headers.timelimit, --time-limit,
//           --soft-time-limit) that passes first stores FAILURE
//           TimeLimitExceeded / SoftTimeLimitExceeded at once (finish_early)
//     │
//   finish (finisher.h): the result, the canvas's next tasks (callbacks, the
//           chain, a chord's body) and the ack in one transaction: never a
//           result without its ack nor an ack without its result
//
// A message still waiting for its eta at a stop, or requeued at shutdown while
// it ran, is left to the shutdown requeue (restorer::requeue_unfinished).

#include <optional>
#include <string>

#include "context.h"
#include "finisher.h"
#include "scalekit/taskqueue/envelope.h"

namespace scalekit::taskqueue::detail {

/// A message as the fetcher took it: from which list, and whether the take
/// reserved it already (reserved_tag not empty: in unacked under that tag,
/// its delivery of task `id` counted as the `deliveries`th).
struct fetched {
  std::string list_key, raw, reserved_tag, id;
  long long deliveries = 0;
  /// Not 0: the message was this many bytes, over --max-message-size, and the
  /// take script dead-lettered it in Redis (raw is empty; id is what it found).
  std::size_t refused_bytes = 0;
};

/// How long a dead-letter list lives after its last entry.
inline constexpr auto dead_letter_expiry = std::chrono::hours(24 * 7);

class message_handler {
 public:
  explicit message_handler(worker_context& w) : w_(w), finisher_(w) {}

  /// Handle a message the fetcher took, to its end (see above).
  /// REQUIRES: w.take_slot() was called for it; the handle frees the slot and
  /// calls w.handle_ended() whatever happens.
  core::task<void> handle(fetched f);

 private:
  // Gives the message's slot back once (when its task has run, or was decided
  // without running), and counts the handle done when it ends.
  struct slot_guard {
    worker_context& w;
    bool held = true;
    void release() {
      if (!held) return;
      held = false;
      w.free_slot();
    }
    void retake() {
      if (held) return;
      held = true;
      w.retake_slot();
    }
    ~slot_guard() {
      release();
      w.handle_ended();
    }
  };

  // What became of a reserved message: an outcome to finish, or nothing (it
  // is not ours to finish: requeued at shutdown, or still waiting for its eta).
  using verdict = std::optional<outcome>;

  // Dead-letter a message that is not a task we can run; `f.reserved_tag`'s
  // reservation goes in the same transaction.
  core::task<void> refuse(fetched f, const std::string& id, const std::string& why, const std::string& exc_type);
  core::task<long long> reserve(const celery::task_message& m, fetched f);
  core::task<verdict> decide(const celery::task_message& m, long long deliveries, const std::string& queue,
                             slot_guard& slot);
  core::task<bool> wait_for_eta(const celery::task_message& m, slot_guard& slot);
  core::task<bool> hold(const celery::task_message& m, slot_guard& slot, double until_time, bool scheduled);
  core::task<verdict> run(const celery::task_message& m, slot_guard& slot);
  core::task<void> watchdog(std::string tag, std::string task, std::string id, double deadline, bool soft,
                            std::string limit_text);
  core::task<void> store(const std::string& id, const std::string& meta);
  bool revoked(const celery::task_message& m);
  void maybe_retry(const celery::task_message& m, outcome& o);
  core::task<void> dead_letter(const std::string& queue, std::string raw, const std::string& why,
                               const std::string& unreserve_tag = "");

  worker_context& w_;
  finisher finisher_;
};

}  // namespace scalekit::taskqueue::detail
