// Helper for the stop-signal tests: a program that owns its stop signals.
//
//   stop_signals_helper graceful DIR   starts writing DIR/out, prints "ready",
//                                      waits for the stop request, drops the
//                                      unfinished output, prints "stopped" and
//                                      ends as the signal that asked
//   stop_signals_helper stuck DIR      the same, but never looks at the stop
//                                      request (a job that is stuck)
//   stop_signals_helper claims DIR     as graceful, but claims SIGHUP and SIGUSR1:
//                                      prints "hup" or "usr1" for each one
//   stop_signals_helper owns DIR       as claims, and owns them even when they
//                                      were ignored at start (inherited_ignores::override)
//   stop_signals_helper release DIR    claims SIGUSR1 with a slow handler, prints "ready";
//                                      once the handler runs, releases it with on() and
//                                      prints whether it had ended by then

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/signals.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const std::string mode = argv[1];
  if (mode == "release") {
    auto& signals = scalekit::core::stop_signals::install({SIGUSR1});
    static std::atomic<int> handler_state{0};  // 1: running, 2: ended
    signals.on(SIGUSR1, [] {
      handler_state = 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a window for on() to race into
      handler_state = 2;
    });
    std::printf("ready\n");
    std::fflush(stdout);
    while (handler_state == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    signals.on(SIGUSR1, {});
    std::printf(handler_state == 2 ? "released after the handler\n" : "released while it ran\n");
    std::fflush(stdout);
    return 0;
  }
  using scalekit::core::inherited_ignores;
  const bool claims = mode == "claims" || mode == "owns";
  auto& signals =
      claims ? scalekit::core::stop_signals::install({SIGHUP, SIGUSR1}, mode == "owns" ? inherited_ignores::override
                                                                                       : inherited_ignores::keep)
             : scalekit::core::stop_signals::install();
  if (claims) {
    signals.on(SIGHUP, [] {
      std::printf("hup\n");
      std::fflush(stdout);
    });
    signals.on(SIGUSR1, [] {
      std::printf("usr1\n");
      std::fflush(stdout);
    });
  }
  {
    auto out = scalekit::core::atomic_file::create(std::string(argv[2]) + "/out");
    if (!out.ok()) return 1;
    (void)out->write("partial", 7);
    std::printf("ready\n");
    std::fflush(stdout);
    if (mode == "stuck") {
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait(lock, signals.token(), [] { return false; });
  }  // the unfinished output is dropped here, as a job's is when it stops
  std::printf("stopped\n");
  std::fflush(stdout);
  signals.exit_if_signalled();
  return 0;
}
