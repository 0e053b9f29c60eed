// The OpenMP executor: one dispatch() is one data-parallel loop, run by an
// OpenMP team inside dispatch() (the seed's PyMP / joblib model). Dynamic
// scheduling, because Mandelbrot rows and most real items vary in cost.

#include <omp.h>

#include <atomic>

#include "executor_detail.h"
#include "scalekit/core/executor.h"

namespace scalekit::core {

namespace {

class openmp_executor final : public executor {
 public:
  explicit openmp_executor(std::size_t threads) : threads_(threads) {}

  void dispatch(std::vector<task_call> calls, completion_fn done) override {
    const auto n = static_cast<long>(calls.size());
    if (stopped_.load(std::memory_order_acquire)) {
      for (long i = 0; i < n; ++i)
        done(static_cast<std::size_t>(i), detail::cancelled_status(calls[static_cast<std::size_t>(i)], "executor closed"));
      return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(static_cast<int>(threads_))
    for (long i = 0; i < n; ++i) {
      const auto idx = static_cast<std::size_t>(i);
      if (stopped_.load(std::memory_order_acquire)) {
        done(idx, detail::cancelled_status(calls[idx], "executor terminated"));
      } else {
        detail::run_and_complete(calls[idx], idx, done, stats_);
      }
    }
  }
  void close() override {}  // dispatch() returns only when its loop is done: nothing is queued
  void terminate() override { stopped_.store(true, std::memory_order_release); }
  [[nodiscard]] executor_kind kind() const noexcept override { return executor_kind::openmp; }
  [[nodiscard]] std::size_t concurrency() const noexcept override { return threads_; }

 private:
  std::size_t threads_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

std::unique_ptr<executor> make_openmp_executor(std::size_t threads) {
  return std::make_unique<openmp_executor>(threads == 0 ? default_jobs() : threads);
}

}  // namespace scalekit::core
