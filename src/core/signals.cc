#include "scalekit/core/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "scalekit/core/atomic_file.h"

namespace scalekit::core {

namespace {

constexpr int stop_signal_numbers[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<int> first_signal{0};

// The stop signals this process owns: those not ignored when it started.
sigset_t owned_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : stop_signal_numbers) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler != SIG_IGN) sigaddset(&set, sig);
  }
  return set;
}

}  // namespace

stop_signals& stop_signals::install() {
  // Leaked on purpose: the waiter thread uses it until the process ends.
  static stop_signals* const instance = [] {
    auto* s = new stop_signals;
    const sigset_t set = owned_signals();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([s] { s->wait_loop(); }).detach();
    return s;
  }();
  return *instance;
}

void stop_signals::wait_loop() {
  const sigset_t set = owned_signals();
  for (;;) {
    int sig = 0;
    if (::sigwait(&set, &sig) != 0) continue;
    int expected = 0;
    if (first_signal.compare_exchange_strong(expected, sig)) {
      source_.request_stop();  // runs the stop callbacks here, off every job's thread
    } else {
      die_of_signal(sig);  // asked twice: stop now
    }
  }
}

int stop_signals::signal() const noexcept { return first_signal.load(); }

void stop_signals::request_stop(int sig) {
  int expected = 0;
  first_signal.compare_exchange_strong(expected, sig);
  source_.request_stop();
}

void stop_signals::exit_if_signalled() {
  if (const int sig = first_signal.load(); sig > 0) die_of_signal(sig);
}

void die_of_signal(int sig) {
  remove_temporary_files();
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);        // to this thread, where it is now unblocked with its default action
  ::_exit(128 + sig);  // a signal whose default is not to die (not one of ours)
}

}  // namespace scalekit::core
