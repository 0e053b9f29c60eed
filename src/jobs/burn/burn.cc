#include "scalekit/jobs/burn/burn.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::burn {

void spin(std::uint64_t iterations) noexcept {
  for (std::uint64_t i = 0; i < iterations; ++i) {
    // An empty asm that claims to read and change i: the loop must run, step by step.
    asm volatile("" : "+r"(i));
  }
}

worker_report decode_report(const std::string& bytes) {
  core::wire_reader in(bytes);
  worker_report r;
  r.pid = in.get<std::int64_t>();
  r.tid = in.get<std::int64_t>();
  r.seconds = in.get<double>();
  in.expect_end();
  return r;
}

void register_tasks() {
  core::task_registry::global().add(burn_task, [](std::string_view payload) {
    core::wire_reader in(payload);
    const auto iterations = in.get<std::uint64_t>();
    in.expect_end();
    const auto t0 = std::chrono::steady_clock::now();
    spin(iterations);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    core::wire_writer w;
    w.put<std::int64_t>(::getpid()).put<std::int64_t>(static_cast<std::int64_t>(::syscall(SYS_gettid))).put(secs);
    return w.take();
  });
}

}  // namespace scalekit::jobs::burn
