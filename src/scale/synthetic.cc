// The synthetic workload (synthetic.h). Each cost is a deadline computed from
// the moment its phase could start on the model's schedule (the run's start,
// the hold before, the message's sending), not a sleep from the moment a
// thread got round to it: a wake-up that comes late on a loaded machine
// delays that one wait, and the schedule after it stays where the law puts
// it. The lock and the messages are real: they order the work as the law
// assumes.

#include "synthetic.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::scale {

namespace {

constexpr const char* task_name = "scale.synthetic";
using clock = std::chrono::steady_clock;

// What the workers of one run share.
struct run_state {
  std::size_t workers = 1;
  clock::duration serial_share{}, parallel_share{}, exchange{};

  std::mutex global_lock;            // contention: held for each serial share
  clock::time_point last_release{};  // guarded by global_lock: when the last hold ended (at first: the start)

  std::mutex mutex;  // the mailboxes and the stop
  std::condition_variable wake;
  std::vector<std::vector<clock::time_point>> mailbox;  // per worker: when each message was sent
  bool stopped = false;

  // Wait until `t` or a stop; false when stopped.
  bool wait_until(clock::time_point t) {
    std::unique_lock lock(mutex);
    return !wake.wait_until(lock, t, [this] { return stopped; });
  }
};

// Live runs by id: the task finds its run's state here (the threads executor
// runs tasks in this process; payloads carry only the id and the worker's number).
class live_runs {
 public:
  static live_runs& instance() {
    static live_runs runs;
    return runs;
  }
  std::uint64_t add(std::shared_ptr<run_state> s) {
    std::scoped_lock lock(mutex_);
    runs_[next_] = std::move(s);
    return next_++;
  }
  std::shared_ptr<run_state> find(std::uint64_t id) {
    std::scoped_lock lock(mutex_);
    const auto it = runs_.find(id);
    return it == runs_.end() ? nullptr : it->second;
  }
  void remove(std::uint64_t id) {
    std::scoped_lock lock(mutex_);
    runs_.erase(id);
  }

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<run_state>> runs_;  // guarded by mutex_
  std::uint64_t next_ = 1;                                    // guarded by mutex_
};

// One worker's part of the job; false when the run was stopped.
bool work(run_state& s, std::size_t me) {
  // 1. Contention. The holds queue on the lock from the run's start: the
  //    k-th hold ends k serial shares after it, however late a thread woke.
  clock::time_point released;
  {
    std::scoped_lock hold(s.global_lock);
    released = s.last_release + s.serial_share;
    if (!s.wait_until(released)) return false;
    s.last_release = released;
  }
  // 2. The parallel share.
  const auto computed = released + s.parallel_share;
  if (!s.wait_until(computed)) return false;
  // 3. Coherency: a message to every other worker, then each received one processed in turn,
  //    from when it was sent or when the one before it was done, whichever is later.
  {
    std::scoped_lock lock(s.mutex);
    for (std::size_t w = 0; w < s.workers; ++w)
      if (w != me) s.mailbox[w].push_back(computed);
  }
  s.wake.notify_all();
  auto done = computed;
  for (std::size_t k = 0; k + 1 < s.workers; ++k) {
    clock::time_point sent;
    {
      std::unique_lock lock(s.mutex);
      s.wake.wait(lock, [&] { return s.stopped || s.mailbox[me].size() > k; });
      if (s.stopped) return false;
      sent = s.mailbox[me][k];
    }
    done = std::max(done, sent) + s.exchange;
    if (!s.wait_until(done)) return false;
  }
  return true;
}

}  // namespace

void register_synthetic_tasks() {
  core::task_registry::global().add(task_name, [](std::string_view payload) {
    core::wire_reader in(payload);
    const auto id = in.get<std::uint64_t>();
    const auto me = in.get<std::uint64_t>();
    in.expect_end();
    const auto s = live_runs::instance().find(id);
    if (s == nullptr || me >= s->workers) throw std::runtime_error("synthetic: no such run");
    if (!work(*s, me)) throw std::runtime_error("stopped");
    return core::bytes();
  });
}

result<core::report> run_synthetic(const synthetic_options& o, core::executor& ex, core::observer& obs) {
  if (!(o.sigma >= 0 && o.sigma < 1) || !(o.kappa >= 0 && o.kappa < 1))
    return status::invalid_argument(fmt::format("synthetic: σ={} and κ={} must be in [0, 1)", o.sigma, o.kappa));
  if (o.work < std::chrono::milliseconds(1) || o.work > std::chrono::minutes(10))
    return status::invalid_argument(fmt::format("synthetic: {} ms of work is outside 1..600000", o.work.count()));
  if (ex.kind() != core::executor_kind::serial && ex.kind() != core::executor_kind::threads)
    return status::invalid_argument("synthetic: runs on the serial and threads executors only (shared memory)");

  auto s = std::make_shared<run_state>();
  const std::size_t n = ex.concurrency();
  const std::chrono::duration<double> w = o.work;
  s->workers = n;
  s->serial_share = std::chrono::duration_cast<clock::duration>(w * o.sigma / static_cast<double>(n));
  s->parallel_share = std::chrono::duration_cast<clock::duration>(w * (1 - o.sigma) / static_cast<double>(n));
  s->exchange = std::chrono::duration_cast<clock::duration>(w * o.kappa);
  s->mailbox.resize(n);
  auto& runs = live_runs::instance();
  const std::uint64_t id = runs.add(s);
  struct forget_run {
    live_runs& runs;
    std::uint64_t id;
    ~forget_run() { runs.remove(id); }
  } forget{runs, id};

  std::vector<core::bytes> payloads;
  for (std::uint64_t me = 0; me < n; ++me) payloads.push_back(core::wire_writer().put(id).put(me).take());
  ex.wait_ready();  // every worker must be there to take its part at once
  const std::stop_callback stop(obs.stop_token(), [&s] {
    {
      std::scoped_lock lock(s->mutex);
      s->stopped = true;
    }
    s->wake.notify_all();
  });
  const auto t0 = clock::now();
  {
    std::scoped_lock hold(s->global_lock);
    s->last_release = t0;
  }
  std::uint64_t failed = 0;
  for (auto& r : ex.map(task_name, std::move(payloads))) {
    if (r.ok()) continue;
    if (!obs.stop_requested()) obs.message(r.error().message());
    ++failed;
  }
  const auto elapsed = clock::now() - t0;
  if (obs.stop_requested()) return status::cancelled("stopped");

  core::report r("synthetic");
  r.work = fmt::format("{} ms of work, σ={} κ={}", o.work.count(), o.sigma, o.kappa);
  r.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed);
  r.items = 1;
  r.unit = "jobs";
  r.failures = failed;
  core::add_executor_fields(r, ex);
  r.add("sigma", o.sigma, "");
  r.add("kappa", o.kappa, "");
  return r;
}

}  // namespace scalekit::scale
