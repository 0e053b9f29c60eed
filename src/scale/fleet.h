#pragma once
// The fleet of a distributed sweep point: a private redis-server on a free
// loopback port and N scalekit workers, each one process running one task at
// a time (`worker --pool threads -c 1 --loglevel info`), started for one run
// and stopped (by pid) when the object goes, also when the run failed or the
// sweep was stopped. The workers log each task's run time (Celery's
// "Task NAME[ID] succeeded in 0.001234s: ..."), from which the fleet's task
// latency is read: the distributed executor's client cannot time the bodies.
//
// Why N processes of one slot rather than one worker -c N: a sweep of the
// distributed executor asks how a fleet scales out, and each worker is then a
// node of its own (its own connection to the broker, its own reservations, as
// in `scale hosts`, where each emulated host runs one such worker); a worker
// -c N is one node with a local pool, which the processes executor already
// measures. The chapter's `celery worker --concurrency 4` is `scale tables`'
// shape.

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "point_runner.h"
#include "scalekit/core/job.h"
#include "scalekit/core/stats.h"
#include "scalekit/core/status.h"
#include "service_process.h"

namespace scalekit::scale {

/// CPU seconds of some processes, as /proc/PID/stat counts them (their
/// threads, and their children once reaped).
struct process_cpu {
  double user_s = 0, sys_s = 0;
};

class fleet {
 public:
  fleet() = default;
  /// Stops the workers, then Redis (SIGTERM; SIGKILL after 5 s each).
  ~fleet();
  fleet(const fleet&) = delete;
  fleet& operator=(const fleet&) = delete;

  /// Start Redis and `workers` workers (`exe` is scalekit), their logs in
  /// `dir`, and wait until each worker consumes. A stop request while
  /// waiting ends with cancelled. Errors: the server's or a worker's
  /// (service_process::start), with its log's end.
  status start(const std::string& exe, std::size_t workers, const std::string& dir, const core::observer& obs);

  /// "redis://127.0.0.1:PORT/0", once started.
  [[nodiscard]] const std::string& broker() const { return broker_; }
  /// The CPU Redis and the workers have used so far.
  [[nodiscard]] process_cpu cpu() const;
  /// Their PSS summed (KiB; 0 where unreadable).
  [[nodiscard]] double pss_kib() const;
  /// The tasks the workers have finished so far and the percentiles of their
  /// run times (each worker's "succeeded in" lines; NaN when none).
  [[nodiscard]] task_latency tasks() const;

 private:
  std::string broker_;
  // Destroyed in reverse: the workers stop before the broker they talk to.
  std::unique_ptr<service_process> redis_;
  std::vector<std::unique_ptr<service_process>> workers_;
};

/// The CPU of process `pid` from /proc/PID/stat (zeros when it is gone).
process_cpu cpu_of(pid_t pid);

/// Record into `h` the run time of every task a worker's log says succeeded
/// ("... succeeded in SECONDSs..."). Returns how many lines it took.
std::uint64_t record_task_times(std::string_view log, core::latency_histogram& h);

}  // namespace scalekit::scale
