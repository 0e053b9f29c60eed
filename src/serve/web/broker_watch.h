#pragma once
// /fleet's view of the distributed workers (serve --broker): what `scalekit
// worker --status` knows (taskqueue::query_status: the live workers from their
// heartbeats, the queue's depth), read by a thread of its own once a second
// while a dashboard watches, with the tasks they finish per second.
//
//   /fleet/events (the loop) ── get_json() ──> the newest reading (never waits for Redis)
//   poller thread ── every second, while asked for in the last 5 s ──> query_status(broker)
//
// Thread safety: get_json() may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "scalekit/taskqueue/worker.h"

namespace scalekit::serve::web {

/// Tasks finished per second by the workers, from readings of their
/// `processed` counters (each worker's own, by name; a worker that appears or
/// leaves counts from the readings it is in). Keeps `window` of readings.
class task_rate {
 public:
  explicit task_rate(std::chrono::milliseconds window = std::chrono::seconds(6)) : window_(window) {}
  /// Add a reading taken at `at`.
  void add(std::chrono::steady_clock::time_point at, const taskqueue::status_report& s);
  /// Over the readings kept; 0 with fewer than two.
  [[nodiscard]] double get_per_second() const;

 private:
  struct reading {
    std::chrono::steady_clock::time_point at;
    std::map<std::string, std::uint64_t> processed;
  };
  std::chrono::milliseconds window_;
  std::deque<reading> readings_;
};

/// A reading as the dashboard's JSON object: the broker (no password), its
/// queue, "ok" and the error when Redis did not answer, the verdict, waiting,
/// unacked, dead letters, the oldest waiting task's age, tasks per second and
/// each worker (name, pool, concurrency, active, processed, failed, last fetch).
std::string broker_json(const std::string& broker, const std::string& queue,
                        const result<taskqueue::status_report>& reading, double tasks_per_s);

class broker_watch {
 public:
  /// Reads `broker`'s workers and `queue`; starts its thread, which waits for the first get_json().
  broker_watch(std::string broker, std::string queue);
  ~broker_watch();  ///< stops the thread (within one reading)
  broker_watch(const broker_watch&) = delete;
  broker_watch& operator=(const broker_watch&) = delete;

  /// The newest reading (broker_json), or {"ok": false, "error": "reading…"}
  /// before the first; and a request for more readings for the next 5 s.
  std::string get_json();

 private:
  void poll(const std::stop_token& stop);

  const std::string broker_, queue_;
  std::mutex mutex_;
  std::condition_variable_any wanted_;
  // State below is protected by mutex_.
  std::string json_;
  std::chrono::steady_clock::time_point wanted_until_{};
  // The poller thread's only.
  task_rate rate_;
  std::jthread thread_;  // last: it starts once the rest exists
};

}  // namespace scalekit::serve::web
