// Thread-pool throughput: a million tiny tasks (a relaxed atomic increment),
// submitted one by one from one thread, then waited for; scalekit's thread_pool
// beside oneTBB's task_group in the same run.
//
//   scalekit_detach/<threads>   thread_pool::detach per task, then wait()
//   tbb_task_group/<threads>    task_group::run per task, then wait(), in a task_arena
//
// items_per_second is tasks per second; compare the two lines at equal threads.

#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>

#include "scalekit/core/thread_pool.h"

namespace {

constexpr int tasks = 1'000'000;

void scalekit_detach(benchmark::State& state) {
  scalekit::core::thread_pool pool(static_cast<std::size_t>(state.range(0)));
  std::atomic<long> sink{0};
  for (auto _ : state) {
    for (int i = 0; i < tasks; ++i) pool.detach([&sink] { sink.fetch_add(1, std::memory_order_relaxed); });
    pool.wait();
  }
  state.SetItemsProcessed(state.iterations() * tasks);
}

void tbb_task_group(benchmark::State& state) {
  oneapi::tbb::task_arena arena(static_cast<int>(state.range(0)));
  std::atomic<long> sink{0};
  for (auto _ : state) {
    arena.execute([&] {
      oneapi::tbb::task_group g;
      for (int i = 0; i < tasks; ++i) g.run([&sink] { sink.fetch_add(1, std::memory_order_relaxed); });
      g.wait();
    });
  }
  state.SetItemsProcessed(state.iterations() * tasks);
}

}  // namespace

BENCHMARK(scalekit_detach)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(tbb_task_group)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
