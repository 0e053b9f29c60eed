#pragma once
// Internal: Celery's remote control in a worker (spec section 12). Subscribes
// to the pidbox fanout channel and answers the requests meant for this
// worker, so that `celery status`, `celery inspect ...` and `celery control
// ...` list and steer scalekit workers beside Celery's own:
//
//   ping, stats, active, reserved, scheduled, active_queues, query_task,
//   registered, revoked, clock, rate_limit, enable_events, disable_events  -> a reply
//   revoke [terminate]   remember the ids (revoked_ids); a waiting eta task is
//                        woken and stored REVOKED; terminate: a running task's
//                        REVOKED "terminated" is stored and acknowledged at
//                        once; with --pool processes its worker process gets
//                        the signal (SIGTERM by default) and is replaced, with
//                        threads the call runs on and its result is dropped
//   hello                mingle, which a Celery worker sends as it starts: the
//                        sender's revoked ids are added to ours, and ours go
//                        back with the clock (a reply of null to ourselves)
//   pool_grow, pool_shrink  more or fewer slots
//   shutdown             the worker stops as on SIGTERM (no reply, as Celery)
//   anything else        {"error": "KeyError('<method>')"}, as kombu replies
//
// A reply goes to the client's reply queue (kombu's direct exchange: the
// queue bound to the request's reply routing key); none when it has gone.

#include <string>

#include "context.h"
#include "finisher.h"
#include "scalekit/taskqueue/control.h"

namespace scalekit::taskqueue::detail {

class controller {
 public:
  explicit controller(worker_context& w) : w_(w), finisher_(w) {}

  /// Listen until the worker stops.
  core::task<void> run();

 private:
  core::task<void> handle(std::string envelope);
  core::task<std::string> revoke(const celery::control_request& r);
  core::task<bool> terminate(std::string tag, int signal);
  core::task<void> reply(const celery::control_request& r, std::string reply_json);
  [[nodiscard]] std::string answer(const celery::control_request& r);
  [[nodiscard]] std::string hello(const celery::control_request& r);
  [[nodiscard]] std::string stats() const;
  [[nodiscard]] std::string requests(const char* which) const;

  worker_context& w_;
  finisher finisher_;
  unsigned long long clock_ = 0;
};

}  // namespace scalekit::taskqueue::detail
