// Tasks per second through a Celery broker, end to end: publish N tasks as one
// group, wait for every result (SUBSCRIBE + MGET, as Celery's client does),
// and report the rate. The same client measures scalekit workers and Python
// Celery workers, so the client's cost is the same on both sides.
//
//   task_throughput BROKER_URL [--tasks 10000] [--task bench_tasks.add] [--args '[1, 2]']

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "scalekit/taskqueue/client.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: task_throughput BROKER_URL [--tasks N] [--task NAME] [--args JSON]\n");
    return 2;
  }
  scalekit::taskqueue::distributed_options o;
  o.broker = argv[1];
  std::size_t n = 10000;
  std::string task = "bench_tasks.add", args = "[1, 2]";
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tasks")) n = std::strtoul(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--task")) task = argv[i + 1];
    if (!std::strcmp(argv[i], "--args")) args = argv[i + 1];
  }
  std::vector<std::pair<std::string, std::string>> tasks(n, {task, args});
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = scalekit::taskqueue::run_celery_tasks(o, tasks);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t failed = 0;
  for (const auto& r : results) failed += r.ok() ? 0 : 1;
  std::printf("%zu tasks in %.3f s: %.0f tasks/s, %zu failed\n", n, s, static_cast<double>(n) / s, failed);
  return failed > 0 ? 1 : 0;
}
