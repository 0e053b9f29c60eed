#pragma once
// Internal: what the roles of one `scalekit worker` share (worker.cc composes them).
//
//   worker_context ── connections (pop, cmd, restore), slots, the stop, the
//          │           broker's health, reservations, stats
//          ├── fetcher          pops while a slot is free, starts a handle per message
//          ├── message_handler  one message: parse, reserve, run, store + ack
//          ├── refresher        keeps running tasks' reservations fresh
//          ├── restorer         puts stale reservations back; requeues at shutdown
//          ├── heartbeat        the status key and Celery's heartbeat event
//          └── controller       Celery's remote control: inspect, revoke, shutdown, pool
//
// Thread safety: none needed. A context and its roles belong to the worker's
// event loop (one thread); their coroutines interleave only at co_await, so a
// role sees another's changes only across a co_await.
//
// Coroutines of the roles are member functions with parameters, never
// capturing lambdas (a coroutine lambda's captures die with the lambda), and
// build their Redis commands in named locals (see taskqueue::words).

#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "revoked.h"
#include "scalekit/core/async.h"
#include "scalekit/core/executor.h"
#include "scalekit/taskqueue/redis.h"
#include "scalekit/taskqueue/worker.h"

namespace scalekit::taskqueue::detail {

using log_fn = std::function<void(const std::string&)>;
using steady_clock = std::chrono::steady_clock;

/// `s` with six decimals, as Redis scores and task durations are written ("1732267336.402555").
std::string seconds_text(double s);

/// A message this worker has reserved (it is in `unacked`), by delivery tag.
struct reservation {
  std::string raw;          ///< the envelope as popped
  std::string list_key;     ///< where it goes back to if requeued
  std::string id;           ///< the task id
  bool finished = false;    ///< its result is computed (being stored): never requeue it
  bool abandoned = false;   ///< requeued at shutdown: drop whatever the run returns
  bool terminated = false;  ///< revoked with terminate=True while it ran: REVOKED is stored, the run is dropped
  std::shared_ptr<core::call_stop> stop = std::make_shared<core::call_stop>();  ///< ends its call (terminate)
  std::optional<double> eta;  ///< unix time: waiting for its eta or countdown, outside the slots
  // What `celery inspect active|reserved|scheduled` shows of it (Celery's Request.info()).
  std::string task, args_json = "[]", kwargs_json = "{}", exchange, routing_key, eta_text;
  int priority = 0;
  bool redelivered = false;
  std::optional<double> time_start;  ///< unix time: it is running since
};

class worker_context {
 public:
  /// Opens nothing yet: the connections connect on first use, on `loop`.
  worker_context(const worker_options& o, redis_endpoint ep, core::executor& ex, const log_fn& log,
                 std::uint64_t stop_after, const asio::any_io_executor& loop);
  worker_context(const worker_context&) = delete;
  worker_context& operator=(const worker_context&) = delete;

  // ---- fixed for the worker's life ----
  const worker_options& options;
  const redis_endpoint endpoint;
  core::executor& executor;
  const std::size_t concurrency;  ///< the executor's slots (at least 1)
  const std::string name;         ///< --hostname, or scalekit@<host>
  void log(const std::string& line) const { log_(line); }

  // ---- connections ----
  redis_client pop;      ///< blocking pops only: they hold the connection
  redis_client cmd;      ///< everything else the worker sends
  redis_client restore;  ///< the restorer and the shutdown requeue: WATCH is per connection
  /// Connections opened after the first of each.
  [[nodiscard]] std::uint64_t get_reconnects() const;

  // ---- records, read and written by every role ----
  std::map<std::string, reservation> running;  ///< by delivery tag: this worker's reservations
  worker_stats stats;                          ///< reconnects excepted (get_reconnects())
  double started = 0;                          ///< unix time the worker started
  double last_fetch = 0;                       ///< unix time a message was last popped (0: never)
  revoked_ids revoked;                         ///< task ids revoked by remote control
  bool task_events = false;                    ///< send task events (events.h)
  /// Per-task rate limits (Celery's token bucket of capacity 1): tasks per
  /// second, and the unix time the next task of that name may start.
  struct rate_bucket {
    double per_second = 0, next_free = 0;
  };
  std::map<std::string, rate_bucket, std::less<>> rate_limits;
  std::uint64_t event_clock = 0;  ///< the events' logical clock
  /// Terminated tasks whose calls still run: a stop does not wait for them.
  std::size_t terminated_running = 0;
  std::map<std::string, std::uint64_t> totals;  ///< tasks finished, by name (`inspect stats`)

  // ---- stopping ----
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }
  /// Stop fetching and wake whatever waits for a slot or for the stop. Idempotent.
  void stop();
  /// Wait until stop() has been called.
  core::task<void> until_stopped();
  /// Sleep for `d`, but wake within 100 ms of a stop.
  core::task<void> nap(std::chrono::milliseconds d);
  /// Sleep until unix time `until` (at most a minute at a time; the caller
  /// looks at the clock again), or until stop() or wake(`tag`).
  core::task<void> sleep_until(const std::string& tag, double until);
  /// End the sleep_until() of `tag` now (a revoked task, for instance).
  void wake(const std::string& tag);

  // ---- the broker: its health (logged once per outage) and retries ----
  void broker_failed(const status& s);
  void broker_ok();
  /// Run `cmds` on `db` until Redis takes them (backing off from 50 ms to 2 s),
  /// or, with `until_stop`, until the worker has stopped and its grace (plus
  /// 5 s) has passed: their replies, or nothing when it gave up.
  core::task<std::optional<std::vector<redis_reply>>> must_run(redis_client& db,
                                                               std::vector<std::vector<std::string>> cmds,
                                                               bool until_stop);

  // ---- slots: messages held (reserved, not yet run) and handles alive ----
  /// The most messages held at once: concurrency × prefetch multiplier.
  [[nodiscard]] std::size_t get_slot_limit() const noexcept { return slot_limit_; }
  /// pool_grow/pool_shrink: `n` more (or fewer) slots, at least one; returns the new limit.
  std::size_t resize_slots(long long n);
  [[nodiscard]] std::size_t get_busy() const noexcept { return busy_; }
  /// Handles alive, storing results included.
  [[nodiscard]] std::size_t get_alive() const noexcept { return alive_; }
  /// A message was popped: it holds a slot, and its handle is alive.
  void take_slot();
  /// The message's task has run (or was decided without running), or it waits
  /// for its eta: its slot is free.
  void free_slot();
  /// A message whose eta has come takes a slot again (even past the limit: the
  /// fetcher then waits until the slots are below it again).
  void retake_slot() { ++busy_; }
  /// Handles waiting for an eta (they hold no slot, and the grace at a stop
  /// does not wait for them: they are requeued at once).
  [[nodiscard]] std::size_t get_waiting_eta() const noexcept { return waiting_eta_; }
  void eta_wait_started() { ++waiting_eta_; }
  void eta_wait_ended() { --waiting_eta_; }
  /// Its handle has ended; stops the worker when `stop_after` tasks have finished.
  void handle_ended();
  /// Wait until a slot may be free (free_slot() or stop()), at most `limit`.
  core::task<void> wait_for_slot(std::chrono::milliseconds limit);

 private:
  [[nodiscard]] steady_clock::time_point hard_deadline() const;

  const log_fn& log_;
  const std::uint64_t stop_after_;
  const std::size_t per_slot_;  // the prefetch multiplier
  std::size_t slot_limit_;
  asio::steady_timer slot_free_, stopped_;
  std::map<std::string, asio::steady_timer*> sleepers_;  ///< sleep_until() timers, by tag
  std::size_t busy_ = 0, alive_ = 0, waiting_eta_ = 0;
  bool stopping_ = false, broker_down_ = false;
  steady_clock::time_point stop_time_ = steady_clock::time_point::max() - std::chrono::hours(1);
};

}  // namespace scalekit::taskqueue::detail
