#pragma once
// Internal to `scale hosts`: one run of a distributed workload on the emulated
// hosts (workers started, the client's job, workers stopped), and what it
// measured. hosts.cc sequences the runs and models them.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hosts_testbed.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::scale::hosts_detail {

/// A distributed Mandelbrot: one Celery task per row.
struct workload_spec {
  std::string name;  ///< "mandelbrot" or "tiny-tasks"
  int width = 0, height = 0, iterations = 0;
  std::string reference;  ///< the bytes of the same image made locally
};

/// What one run measured.
struct run_result {
  int hosts = 0;
  double wall_s = 0;                              ///< the client's process, from start to exit
  double job_s = 0;                               ///< the client's own elapsed_s: its job, start-up excluded
  double throughput = 0;                          ///< tasks (rows) per second of job_s
  double throughput_min = 0, throughput_max = 0;  ///< of the repeated runs this one is the median of
  std::vector<std::uint64_t> tasks_per_host;      ///< tasks each host's worker succeeded in
  std::uint64_t restored = 0;                     ///< reservations of a lost worker put back by the others
  bool image_exact = false;
  double broker_cpu_s = 0, client_cpu_s = 0;  ///< CPU of those namespaces during the run
  double down_at_s = -1;                      ///< partition: when the link went down, after the start
  std::uint64_t down_host_tasks = 0;          ///< partition: what the cut host's worker finished
};

/// Runs workloads on a testbed whose broker is running. Not thread-safe.
class runner {
 public:
  /// `keep_dir`: where each workload's image is left as NAME.png (the last
  /// run's); empty: images are removed.
  /// `broker` is the broker's process: a run fails when it dies.
  runner(testbed& tb, std::string dir, std::string exe, pid_t broker, double visibility_s, std::string keep_dir,
         const core::observer& obs)
      : tb_(tb),
        dir_(std::move(dir)),
        exe_(std::move(exe)),
        url_("redis://" + tb.broker().ip + ":6379/0"),
        keep_dir_(std::move(keep_dir)),
        broker_(broker),
        visibility_s_(visibility_s),
        obs_(obs) {}

  /// Run `w` on hosts 1..hosts. With `partition`, host `hosts`'s link goes
  /// down as soon as its worker has received a task (so it holds one when it
  /// goes), and comes up again only when the job is over.
  result<run_result> run(const workload_spec& w, int hosts, bool partition = false);

 private:
  /// `log_last`: the last host's worker logs each task (the partition's trigger).
  result<std::vector<pid_t>> start_workers(int hosts, bool log_last);
  /// SIGTERM each worker, their reports' (succeeded, restored).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> stop_workers(const std::vector<pid_t>& pids);
  std::string file(const std::string& what) const { return dir_ + "/" + std::to_string(seq_) + "-" + what; }

  /// Empty the broker: each run's results (the client has read them) would
  /// otherwise pile up against its memory limit.
  status flush_broker();

  testbed& tb_;
  std::string dir_, exe_, url_, keep_dir_;
  pid_t broker_;
  double visibility_s_;
  const core::observer& obs_;
  int seq_ = 0;
};

/// A file's bytes ("" when unreadable).
std::string read_bytes(const std::string& path);

}  // namespace scalekit::scale::hosts_detail
