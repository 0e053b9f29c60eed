#pragma once
// Internal: the end of a reserved message (spec sections 5.4 and 11): its
// outcome becomes a result, the canvas's next steps and the acknowledgement,
// stored in one transaction.
//
//   outcome ──SUCCESS──> callbacks (link) with the result, the chain's next task
//           ──FAILURE──> errbacks (link_error) with the task id; the chain's
//                        remaining tasks get the same FAILURE (Celery's
//                        mark_as_failure propagates it)
//           ──in a chord──> the part added to the chord's sorted set; the last
//                        part publishes the body with every part's result, or
//                        stores the body's FAILURE ChordError when a part failed
//      │
//   MULTI  chord sizes · LPUSH next messages · SETEX+PUBLISH metas ·
//          DEL a finished chord's keys · ZREM+HDEL the reservation · DEL deliveries  EXEC
//
// A follow-up is never published without the result, nor the result stored
// without its follow-ups. The chord's part is counted before that
// transaction, as Celery's Redis backend counts it (ZADD + ZCOUNT in one
// MULTI); a part delivered twice adds the same member, so it counts once.

#include <string>
#include <vector>

#include "context.h"
#include "events.h"
#include "scalekit/taskqueue/canvas.h"
#include "scalekit/taskqueue/envelope.h"

namespace scalekit::taskqueue::detail {

/// What became of a reserved message.
struct outcome {
  std::string state;                          ///< SUCCESS, FAILURE or REVOKED
  std::string result_json;                    ///< SUCCESS: the task's result; otherwise Celery's exception JSON
  std::string exc_type, exc_module, message;  ///< FAILURE and REVOKED
  std::string traceback;                      ///< "" is stored as null
  double runtime = 0;                         ///< seconds the task ran (task-succeeded's runtime)
  /// RETRY: the task again (a signature: same id, retries + 1, its countdown), published with the RETRY meta.
  std::string retry_signature;
  [[nodiscard]] bool success() const { return state == "SUCCESS"; }
};

/// The outcome of an exception, for FAILURE (or REVOKED with a TaskRevokedError).
outcome failed(std::string state, std::string exc_type, std::string exc_module, std::string message,
               std::string traceback = "");

class finisher {
 public:
  explicit finisher(worker_context& w) : w_(w) {}

  /// Store `o` for reserved message `m` with its canvas follow-ups, and
  /// acknowledge it (see above). Retried until Redis takes it (or the
  /// worker's hard deadline after a stop passes).
  core::task<void> finish(const celery::task_message& m, outcome o);

  /// Finish reservation `tag` while its task still runs (revoke with
  /// terminate=True, a time limit): `o` is stored and acknowledged now, the
  /// call runs on in the executor and what it returns is dropped (the handle
  /// forgets the reservation then); a stop does not wait for it. False when
  /// it is not running any more.
  core::task<bool> finish_early(std::string tag, outcome o);

  /// The traceback text stored for a failure that happened here.
  [[nodiscard]] std::string traceback_text(const std::string& exc_type, const std::string& message) const;

 private:
  // One transaction's worth of writes.
  struct writes {
    celery::canvas_effects effects;
    std::vector<std::pair<std::string, std::string>> metas;  // (task id, meta)
    std::vector<std::string> deleted;                        // keys to DEL
  };
  // The chord part of task `tid` (m's, or a task of m's chain) in group
  // `gid`; when it is the last, the body's message (or its failure) goes into `out`.
  core::task<void> chord_part(const celery::task_message& m, const std::string& tid, const std::string& gid,
                              const std::string& group_index, const outcome& o, const std::string& body, writes& out);
  core::task<void> announce(const celery::task_message& m, const outcome& o);
  void apply(std::string_view sig, const std::vector<std::string>& partial, const celery::apply_options& opts,
             writes& out, const celery::task_message& m);

  worker_context& w_;
};

}  // namespace scalekit::taskqueue::detail
