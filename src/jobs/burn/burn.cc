#include "scalekit/jobs/burn/burn.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <unordered_set>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::burn {

namespace {

// burn.loop: payload u64 iterations, u64 run id; result i64 pid, i64 tid, f64 seconds.
constexpr const char* loop_task = "burn.loop";

// Runs asked to stop. A loop that runs in the job's own process (the serial,
// threads and OpenMP executors) looks here between slices of its spin and
// ends early: the thread executor cannot stop a running call itself. Worker
// processes never see a mark; the process executor ends them instead.
class stopped_runs {
 public:
  static stopped_runs& instance() {
    static stopped_runs runs;
    return runs;
  }
  std::uint64_t new_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  void mark(std::uint64_t id) {
    std::scoped_lock lock(mutex_);
    ids_.insert(id);
    marked_.store(true, std::memory_order_release);
  }
  void forget(std::uint64_t id) {
    std::scoped_lock lock(mutex_);
    ids_.erase(id);
    marked_.store(!ids_.empty(), std::memory_order_release);
  }
  bool contains(std::uint64_t id) {
    if (!marked_.load(std::memory_order_acquire)) return false;  // the usual case: no lock
    std::scoped_lock lock(mutex_);
    return ids_.count(id) != 0;
  }

 private:
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> marked_{false};
  std::mutex mutex_;
  std::unordered_set<std::uint64_t> ids_;  // guarded by mutex_
};

// Steps between two looks at stopped_runs: about a millisecond.
constexpr std::uint64_t slice = std::uint64_t{1} << 22;

struct worker_report {
  std::int64_t pid = 0;  // process id
  std::int64_t tid = 0;  // kernel thread id
  double seconds = 0;
};

worker_report decode_report(std::string_view bytes) {
  core::wire_reader in(bytes);
  worker_report r;
  r.pid = in.get<std::int64_t>();
  r.tid = in.get<std::int64_t>();
  r.seconds = in.get<double>();
  in.expect_end();
  return r;
}

}  // namespace

void spin(std::uint64_t iterations) noexcept {
  for (std::uint64_t i = 0; i < iterations; ++i) {
    // An empty asm that claims to read and change i: the loop must run, step by step.
    asm volatile("" : "+r"(i));
  }
}

void register_tasks() {
  core::task_registry::global().add(loop_task, [](std::string_view payload) {
    core::wire_reader in(payload);
    const auto iterations = in.get<std::uint64_t>();
    const auto run_id = in.get<std::uint64_t>();
    in.expect_end();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t done = 0; done < iterations; done += slice) {
      spin(std::min(slice, iterations - done));
      if (stopped_runs::instance().contains(run_id)) throw std::runtime_error("stopped");
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    core::wire_writer w;
    w.put<std::int64_t>(::getpid()).put<std::int64_t>(static_cast<std::int64_t>(::syscall(SYS_gettid))).put(secs);
    return w.take();
  });
}

result<core::report> run(const options& o, core::executor& ex, core::observer& obs) {
  if (o.iterations < 1 || o.iterations > max_iterations)
    return status::invalid_argument("iterations must be between 1 and " + std::to_string(max_iterations) + ", not " +
                                    std::to_string(o.iterations));
  const std::size_t workers = ex.concurrency();
  auto& runs = stopped_runs::instance();
  const std::uint64_t run_id = runs.new_id();
  std::vector<core::bytes> payloads(workers, core::wire_writer().put(o.iterations).put(run_id).take());
  ex.wait_ready();  // one loop per worker: every worker must be there to take one
  const core::cancel_on_stop stop_guard(ex, obs);
  struct forget_run {  // after the callback below is gone: no mark can follow
    stopped_runs& runs;
    std::uint64_t id;
    ~forget_run() { runs.forget(id); }
  } forget{runs, run_id};
  const std::stop_callback stop_loops(obs.stop_token(), [&runs, run_id] { runs.mark(run_id); });
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<core::report_record> records;
  std::uint64_t failed = 0;
  auto stream = ex.as_completed(loop_task, std::move(payloads));
  while (auto c = stream.next()) {
    if (!c->value.ok()) {
      if (!obs.stop_requested()) obs.message(c->value.error().message());  // after a stop: cancelled, as asked
      ++failed;
      continue;
    }
    worker_report w;
    try {
      w = decode_report(c->value.value());
    } catch (const std::exception& e) {
      obs.message(std::string(loop_task) + ": " + e.what());
      ++failed;
      continue;
    }
    char line[96];
    std::snprintf(line, sizeof line, "process %ld thread %ld: %.3f s\n", static_cast<long>(w.pid),
                  static_cast<long>(w.tid), w.seconds);
    obs.output(line);
    records.push_back({{"pid", w.pid, ""}, {"tid", w.tid, ""}, {"seconds", w.seconds, ""}});
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  if (obs.stop_requested()) return status::cancelled("stopped");
  const double secs = std::chrono::duration<double>(elapsed).count();
  char line[64];
  std::snprintf(line, sizeof line, "work took %.3f seconds\n", secs);
  obs.output(line);

  core::report r("burn");
  r.work = std::to_string(workers) + " loops of " + std::to_string(o.iterations) + " iterations";
  r.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed);
  r.items = static_cast<double>(workers) * static_cast<double>(o.iterations);
  r.unit = "iterations";
  r.failures = failed;
  core::add_executor_fields(r, ex);
  r.add("iterations", o.iterations, "");  // the head says it
  r.add("workers", std::move(records), "");
  return r;
}

}  // namespace scalekit::jobs::burn
