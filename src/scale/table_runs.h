#pragma once
// The runs of `scale tables` (chapter_tables.h's table_run) as sweep
// workloads, their inputs, the servers they need, and the seed's Python
// beside them.

#include <cmath>
#include <cstdint>
#include <string>

#include "chapter_tables.h"
#include "scalekit/core/job.h"
#include "scalekit/core/status.h"
#include "scalekit/scale/tables.h"
#include "service_process.h"
#include "workloads.h"

namespace scalekit::scale {

/// The name of the input a run needs ("numbers-1000"): runs of the same
/// input share it ("none": no input).
std::string input_key(const table_run& r, std::uint64_t size);

/// Make the run's input in `dir` (number files, images of rings).
status prepare_input(const table_run& r, std::uint64_t size, const std::string& dir);

/// The servers the runs need, each started for the first run that needs it
/// and stopped (by pid) when the object goes. Not thread-safe.
struct table_services {
  std::string dir;  ///< their logs
  service_process images, redis, worker;
  std::string image_base;  ///< "http://127.0.0.1:PORT" of dummyimage serve, once started
  std::string broker;      ///< "redis://127.0.0.1:PORT/0" with a worker on it, once started

  /// `dummyimage serve` on a free loopback port.
  status need_images();
  /// The chapter's Celery fleet: a private redis-server and one scalekit
  /// worker of 4 processes (`celery worker --concurrency 4`).
  status need_fleet();
};

/// The run as a sweep workload: its job through its library entry, or a
/// command (the jobs of scalekit-heavy; the distributed executor).
/// REQUIRES the services the run needs started.
workload workload_of(const table_run& r, const table_services& sv);

/// What the seed's program did: its wall time and user CPU, or `text`
/// instead ("-": no seed program; "only at 1000"; "> 60": stopped; "failed").
struct seed_outcome {
  double wall_s = std::nan(""), user_s = std::nan("");
  std::string text;  // when there is no figure
};

/// Run the seed's program of `r` in `dir` (its own process group, output to
/// /dev/null), stopped after o.seed_timeout_s or a stop request.
seed_outcome run_seed(const tables_options& o, const std::string& seed_dir, const table_run& r, std::uint64_t size,
                      const std::string& dir, core::observer& obs);

}  // namespace scalekit::scale
