// Helper for ProcessPool.CtrlC: a process pool whose workers spin forever.
// Prints each worker's pid on stdout, one per line, then "ready", then blocks.
// The test sends SIGINT to the process group, as a terminal's Ctrl-C does.

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "scalekit/core/process_pool.h"
#include "scalekit/core/task.h"

int main(int argc, char** argv) {
  scalekit::core::task_registry::global().add("test.spin", [](std::string_view) {
    volatile unsigned long x = 0;
    for (;;) x = x + 1;
    return scalekit::core::bytes();
  });
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;

  scalekit::core::process_pool_options opts;
  opts.workers = 2;
  scalekit::core::process_pool pool(opts);
  std::vector<scalekit::core::bytes> payloads(4);
  auto stream = pool.as_completed("test.spin", payloads);
  // Wait until both workers are up and busy.
  for (int i = 0; i < 500 && pool.get_worker_pids().size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int pid : pool.get_worker_pids()) std::printf("%d\n", pid);
  std::printf("ready\n");
  std::fflush(stdout);
  stream.next();  // never returns: the tasks spin
  return 0;
}
