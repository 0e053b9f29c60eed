#include "scalekit/core/executor.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "executor_detail.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/core/thread_pool.h"

namespace scalekit::core {

std::optional<executor_kind> parse_executor_kind(std::string_view name) {
  if (name == "serial") return executor_kind::serial;
  if (name == "threads") return executor_kind::threads;
  if (name == "processes") return executor_kind::processes;
  if (name == "openmp") return executor_kind::openmp;
  if (name == "distributed") return executor_kind::distributed;
  return std::nullopt;
}

std::string_view to_string(executor_kind kind) {
  switch (kind) {
    case executor_kind::serial: return "serial";
    case executor_kind::threads: return "threads";
    case executor_kind::processes: return "processes";
    case executor_kind::openmp: return "openmp";
    case executor_kind::distributed: return "distributed";
  }
  return "?";
}

std::size_t default_jobs() noexcept { return std::max(1u, std::thread::hardware_concurrency()); }

// ---- completion_stream ------------------------------------------------------

completion_stream::completion_stream(std::size_t n)
    : n_(n), queue_(std::make_shared<bounded_queue<completion>>(std::max<std::size_t>(n, 1))) {
  if (n == 0) queue_->close();
}

std::optional<completion> completion_stream::next() { return queue_->pop(); }

completion_fn completion_stream::sink() {
  // Capacity n: a completer never blocks. The last completion closes the stream.
  auto remaining = std::make_shared<std::atomic<std::size_t>>(n_);
  return [q = queue_, remaining](std::size_t i, result<bytes> r) {
    q->push(completion{i, std::move(r)});
    if (remaining->fetch_sub(1) == 1) q->close();
  };
}

// ---- conveniences on dispatch -------------------------------------------------

std::future<bytes> executor::submit(std::string name, bytes payload) {
  auto promise = std::make_shared<std::promise<bytes>>();
  auto fut = promise->get_future();
  std::vector<task_call> calls;
  calls.push_back(task_call{std::move(name), std::move(payload)});
  dispatch(std::move(calls), [promise](std::size_t, result<bytes> r) {
    if (r.ok()) {
      promise->set_value(std::move(r).value());
    } else {
      promise->set_exception(std::make_exception_ptr(task_error(r.error())));
    }
  });
  return fut;
}

std::vector<result<bytes>> executor::map(const std::string& name, std::vector<bytes> payloads) {
  std::vector<task_call> calls;
  calls.reserve(payloads.size());
  for (auto& p : payloads) calls.push_back(task_call{name, std::move(p)});
  return run_calls(std::move(calls));
}

std::vector<result<bytes>> executor::run_calls(std::vector<task_call> calls) {
  const std::size_t n = calls.size();
  struct shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t remaining;
    std::vector<std::optional<result<bytes>>> slots;
  };
  auto st = std::make_shared<shared>();
  st->remaining = n;
  st->slots.resize(n);
  dispatch(std::move(calls), [st](std::size_t i, result<bytes> r) {
    st->slots[i].emplace(std::move(r));  // each slot is written by exactly one completion
    std::scoped_lock lock(st->mutex);
    if (--st->remaining == 0) st->cv.notify_all();
  });
  {
    std::unique_lock lock(st->mutex);
    st->cv.wait(lock, [&] { return st->remaining == 0; });
  }
  std::vector<result<bytes>> out;
  out.reserve(n);
  for (auto& s : st->slots) out.push_back(std::move(*s));
  return out;
}

completion_stream executor::as_completed(const std::string& name, std::vector<bytes> payloads) {
  completion_stream stream(payloads.size());
  std::vector<task_call> calls;
  calls.reserve(payloads.size());
  for (auto& p : payloads) calls.push_back(task_call{name, std::move(p)});
  if (!calls.empty()) dispatch(std::move(calls), stream.sink());
  return stream;
}

void executor::map_streaming(const std::string& name, std::vector<bytes> payloads,
                             const std::function<void(std::size_t, result<bytes>&)>& on_result) {
  const std::size_t n = payloads.size();
  std::vector<std::optional<result<bytes>>> waiting(n);
  std::size_t next = 0;
  auto stream = as_completed(name, std::move(payloads));
  while (auto c = stream.next()) {
    waiting[c->index].emplace(std::move(c->value));
    while (next < n && waiting[next]) {
      on_result(next, *waiting[next]);
      waiting[next].reset();
      ++next;
    }
  }
}

// ---- inline (serial) --------------------------------------------------------

namespace {

class inline_executor final : public executor {
 public:
  void dispatch(std::vector<task_call> calls, completion_fn done) override {
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (stopped_.load(std::memory_order_acquire)) {
        done(i, detail::cancelled_status(calls[i], "executor closed"));
      } else {
        detail::run_and_complete(calls[i], i, done, stats_);
      }
    }
  }
  void close() override { stopped_.store(true, std::memory_order_release); }
  void terminate() override { close(); }
  void cancel() noexcept override { close(); }
  [[nodiscard]] executor_kind kind() const noexcept override { return executor_kind::serial; }
  [[nodiscard]] std::size_t concurrency() const noexcept override { return 1; }

 private:
  std::atomic<bool> stopped_{false};
};

// ---- threads ----------------------------------------------------------------

class thread_executor final : public executor {
 public:
  explicit thread_executor(std::size_t threads) : pool_(threads) {}
  ~thread_executor() override { close(); }

  void dispatch(std::vector<task_call> calls, completion_fn done) override {
    if (calls.empty()) return;
    auto batch = std::make_shared<batch_state>(std::move(calls), std::move(done), this);
    // A few runners share one claim counter: self-balancing with small grains,
    // and only `runners` pool tasks however many calls there are.
    const std::size_t n = batch->calls.size();
    const std::size_t runners = std::min(n, pool_.get_thread_count());
    batch->grain = std::max<std::size_t>(1, n / (pool_.get_thread_count() * 64));
    for (std::size_t r = 0; r < runners; ++r) {
      try {
        pool_.detach([batch] { batch->run(); });
      } catch (const pool_closed&) {
        break;  // batch_state's destructor cancels whatever nobody claimed
      }
    }
  }

  void close() override { pool_.close(); }
  void terminate() override {
    terminated_.store(true, std::memory_order_release);
    pool_.terminate();
  }
  // Runners stop claiming calls; what nobody claimed completes as cancelled
  // when the last runner lets go of its batch.
  void cancel() noexcept override { terminated_.store(true, std::memory_order_release); }
  [[nodiscard]] executor_kind kind() const noexcept override { return executor_kind::threads; }
  [[nodiscard]] std::size_t concurrency() const noexcept override { return pool_.get_thread_count(); }

 private:
  struct batch_state {
    batch_state(std::vector<task_call> c, completion_fn d, thread_executor* o)
        : calls(std::move(c)), done(std::move(d)), owner(o) {}
    ~batch_state() {
      // Calls nobody claimed (terminated, or the pool refused the runners).
      for (std::size_t i = next.load(); i < calls.size(); ++i)
        done(i, detail::cancelled_status(calls[i], "executor terminated"));
    }
    void run() {
      for (;;) {
        if (owner->terminated_.load(std::memory_order_acquire)) return;
        const std::size_t lo = next.fetch_add(grain, std::memory_order_relaxed);
        if (lo >= calls.size()) {
          next.store(calls.size());  // keep the destructor's range empty
          return;
        }
        const std::size_t hi = std::min(calls.size(), lo + grain);
        for (std::size_t i = lo; i < hi; ++i) {
          if (owner->terminated_.load(std::memory_order_acquire)) {
            // Claimed but not started: as queued as the calls nobody claimed.
            for (; i < hi; ++i) done(i, detail::cancelled_status(calls[i], "executor terminated"));
            return;
          }
          detail::run_and_complete(calls[i], i, done, owner->stats_);
        }
      }
    }
    std::vector<task_call> calls;
    completion_fn done;
    thread_executor* owner;
    std::size_t grain = 1;
    std::atomic<std::size_t> next{0};
  };

  thread_pool pool_;
  std::atomic<bool> terminated_{false};
};

}  // namespace

std::unique_ptr<executor> make_inline_executor() { return std::make_unique<inline_executor>(); }

std::unique_ptr<executor> make_thread_executor(std::size_t threads) {
  return std::make_unique<thread_executor>(threads == 0 ? default_jobs() : threads);
}

std::unique_ptr<executor> make_executor(executor_kind kind, const executor_options& options) {
  const std::size_t jobs = options.jobs == 0 ? default_jobs() : options.jobs;
  switch (kind) {
    case executor_kind::serial: return make_inline_executor();
    case executor_kind::threads: return make_thread_executor(jobs);
    case executor_kind::processes: {
      process_pool_options po;
      po.workers = jobs;
      po.executable = options.worker_executable;
      po.task_timeout = options.task_timeout;
      po.max_attempts = options.max_attempts;
      return std::make_unique<process_pool>(po);
    }
    case executor_kind::openmp: return make_openmp_executor(jobs);
    case executor_kind::distributed:
      throw std::invalid_argument("the distributed executor needs a broker (--broker URL)");
  }
  throw std::invalid_argument("unknown executor");
}

}  // namespace scalekit::core
