#include "scalekit/core/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "scalekit/core/atomic_file.h"

namespace scalekit::core {

namespace {

constexpr int stop_signal_numbers[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<int> first_signal{0};

// The waiter thread, set before any forwarding handler is installed, and the
// process that installed the handler.
pthread_t waiter_thread;
pid_t forwarding_pid = 0;

// A signal taken on a thread that does not block it: the waiter's now (it
// blocks every waited signal, so sigwait takes it there). In a child forked
// without exec (Python's os.fork) there is no waiter: the default action.
extern "C" void forward_to_waiter(int sig) {
  const int saved = errno;
  if (::getpid() == forwarding_pid) {
    ::pthread_kill(waiter_thread, sig);
  } else {
    ::signal(sig, SIG_DFL);
    ::raise(sig);  // blocked until this handler returns, then the default action
  }
  errno = saved;
}

bool ignored_at_start(int sig) {
  struct sigaction old {};
  ::sigaction(sig, nullptr, &old);
  return old.sa_handler == SIG_IGN;
}

}  // namespace

// The claimed signals and their handlers.
struct stop_signals::claims {
  sigset_t set;        // claimed and not ignored at start; fixed at install
  sigset_t requested;  // claimed, ignored at start or not
  sigset_t waited;     // what the waiter takes: the claimed ones, and the stop signals not ignored
  std::mutex mutex;
  std::map<int, std::function<void()>> handlers;  // guarded by mutex
  std::mutex calling;                             // held by the waiter while it runs a handler: on() waits for it
};

stop_signals& stop_signals::install(std::initializer_list<int> claimed, inherited_ignores ignores) {
  // Leaked on purpose: the waiter thread uses it until the process ends.
  static stop_signals* const instance = [&] {
    const bool own = ignores == inherited_ignores::override;
    auto* s = new stop_signals;
    s->claims_ = new claims;
    sigemptyset(&s->claims_->set);
    sigemptyset(&s->claims_->requested);
    sigset_t was_ignored;  // and now owned: their action must not stay SIG_IGN, or they are discarded
    sigemptyset(&was_ignored);
    const auto keep_ignored = [&](int sig) {
      if (!ignored_at_start(sig)) return false;
      if (own) sigaddset(&was_ignored, sig);
      return !own;
    };
    for (int sig : claimed) {
      sigaddset(&s->claims_->requested, sig);
      if (!keep_ignored(sig)) sigaddset(&s->claims_->set, sig);
    }
    sigset_t waited = s->claims_->set;  // the claimed ones, and the stop signals not claimed
    for (int sig : stop_signal_numbers)
      if (!keep_ignored(sig)) sigaddset(&waited, sig);
    s->claims_->waited = waited;
    ::pthread_sigmask(SIG_BLOCK, &waited, nullptr);
    // Blocked first, so the default action never runs: the waiter takes them.
    for (int sig = 1; sig < NSIG; ++sig)
      if (sigismember(&was_ignored, sig) == 1) ::signal(sig, SIG_DFL);
    std::thread waiter([s, waited] {
      for (;;) {
        int sig = 0;
        if (::sigwait(&waited, &sig) != 0) continue;
        if (!sigismember(&s->claims_->set, sig)) {
          s->on_stop_signal(sig);
          continue;
        }
        std::scoped_lock calling(s->claims_->calling);
        std::function<void()> handler;
        {
          std::scoped_lock lock(s->claims_->mutex);
          if (auto it = s->claims_->handlers.find(sig); it != s->claims_->handlers.end()) handler = it->second;
        }
        if (handler) handler();
      }
    });
    waiter_thread = waiter.native_handle();
    waiter.detach();
    return s;
  }();
  return *instance;
}

void stop_signals::on(int sig, std::function<void()> handler) {
  if (!sigismember(&claims_->set, sig)) {
    if (sigismember(&claims_->requested, sig)) return;  // ignored by whoever started us: it stays ignored
    throw std::invalid_argument("signal " + std::to_string(sig) +
                                " was not claimed when the stop signals were installed");
  }
  std::scoped_lock lock(claims_->calling, claims_->mutex);
  claims_->handlers[sig] = std::move(handler);
}

void stop_signals::on_stop_signal(int sig) {
  int expected = 0;
  if (first_signal.compare_exchange_strong(expected, sig)) {
    source_.request_stop();  // runs the stop callbacks here, off every job's thread
  } else {
    die_of_signal(sig);  // asked twice: stop now
  }
}

void stop_signals::forward_from_any_thread() {
  forwarding_pid = ::getpid();
  struct sigaction forward {};
  forward.sa_handler = forward_to_waiter;
  forward.sa_flags = SA_RESTART;
  sigfillset(&forward.sa_mask);  // one forwarding at a time on this thread
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&claims_->waited, sig) == 1) ::sigaction(sig, &forward, nullptr);
  ::pthread_sigmask(SIG_UNBLOCK, &claims_->waited, nullptr);
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
