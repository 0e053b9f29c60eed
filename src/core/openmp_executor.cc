// The OpenMP executor: one dispatch() is one data-parallel loop over its calls
// (the seed's PyMP / joblib model), `#pragma omp parallel for` with dynamic
// scheduling because Mandelbrot rows and most real items vary in cost.
//
// The loop runs on a driver thread, which becomes the OpenMP team's master, so
// dispatch() returns at once and results stream to the caller as they finish,
// exactly as with the other executors (a job can encode row 0 while row 400
// still renders).

#include <omp.h>

#include <atomic>
#include <memory>

#include "executor_detail.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/thread_pool.h"

namespace scalekit::core {

namespace {

class openmp_executor final : public executor {
 public:
  explicit openmp_executor(std::size_t threads) : threads_(threads), driver_(1) {}
  ~openmp_executor() override { close(); }

  void dispatch(std::vector<task_call> calls, completion_fn done) override {
    if (calls.empty()) return;
    auto batch = std::make_shared<batch_state>(std::move(calls), std::move(done));
    try {
      driver_.detach([this, batch] { run(*batch); });
    } catch (const pool_closed&) {
      // batch_state's destructor completes the calls as cancelled
    }
  }
  void close() override { driver_.close(); }
  void terminate() override {
    stopped_.store(true, std::memory_order_release);
    driver_.terminate();
  }
  void cancel() noexcept override { stopped_.store(true, std::memory_order_release); }
  [[nodiscard]] executor_kind kind() const noexcept override { return executor_kind::openmp; }
  [[nodiscard]] std::size_t concurrency() const noexcept override { return threads_; }

 private:
  struct batch_state {
    batch_state(std::vector<task_call> c, completion_fn d) : calls(std::move(c)), done(std::move(d)) {}
    ~batch_state() {
      if (ran) return;
      for (std::size_t i = 0; i < calls.size(); ++i) done(i, detail::cancelled_status(calls[i], "executor terminated"));
    }
    std::vector<task_call> calls;
    completion_fn done;
    bool ran = false;
  };

  void run(batch_state& b) {
    b.ran = true;
    const auto n = static_cast<long>(b.calls.size());
    const int team = static_cast<int>(threads_);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (long i = 0; i < n; ++i) {
      const auto idx = static_cast<std::size_t>(i);
      if (stopped_.load(std::memory_order_acquire)) {
        b.done(idx, detail::cancelled_status(b.calls[idx], "executor terminated"));
      } else {
        detail::run_and_complete(b.calls[idx], idx, b.done, stats_);
      }
    }
  }

  std::size_t threads_;
  std::atomic<bool> stopped_{false};
  thread_pool driver_;  // one thread: batches run one loop at a time, in order
};

}  // namespace

std::unique_ptr<executor> make_openmp_executor(std::size_t threads) {
  return std::make_unique<openmp_executor>(threads == 0 ? default_jobs() : threads);
}

}  // namespace scalekit::core
