// The Celery-compatible worker: one event loop moves messages between Redis
// and a core executor, which runs the tasks. The worker composes its roles,
// each a class of its own in worker/, sharing a worker_context:
//
//   fetcher          pop+reserve while a slot is free; a handle per message   worker/fetcher.h
//   message_handler  parse, reserve, count deliveries, run, store + ack        worker/handler.h
//   refresher        keeps running tasks' reservations fresh                    worker/refresher.h
//   restorer         puts stale reservations back; requeues at shutdown         worker/restorer.h
//   heartbeat        the status key and Celery's event; query_status reads it   worker/heartbeat.h
//   controller       Celery's remote control (inspect, revoke, shutdown, pool)  worker/controller.h
//   mingle           at start, the running workers' revoked ids                 worker/mingle.h
//
// Here: start (bindings, the stop), run the roles, and stop (grace, requeue,
// join, goodbye); and run_worker(), the service's entry, with its report.

#include "scalekit/taskqueue/worker.h"

#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <stop_token>
#include <vector>

#include "scalekit/core/line_reader.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"
#include "worker/context.h"
#include "worker/controller.h"
#include "worker/events.h"
#include "worker/fetcher.h"
#include "worker/handler.h"
#include "worker/heartbeat.h"
#include "worker/mingle.h"
#include "worker/refresher.h"
#include "worker/restorer.h"

namespace scalekit::taskqueue {

namespace {

using namespace std::chrono_literals;

class worker_impl {
 public:
  worker_impl(const worker_options& o, redis_endpoint ep, core::executor& ex, const detail::log_fn& log,
              std::stop_token stop, const asio::any_io_executor& loop)
      : stop_(std::move(stop)),
        w_(o, std::move(ep), ex, log, o.stop_after, loop),
        handler_(w_),
        fetcher_(w_, handler_),
        refresher_(w_),
        restorer_(w_),
        heartbeat_(w_),
        controller_(w_) {}

  core::task<void> main() {
    auto loop = co_await core::this_executor();
    // A stop request comes from another thread: the loop acts on it.
    const std::stop_callback on_stop(stop_, [this, loop] {
      asio::post(loop, [this] {
        w_.log("stop requested: finishing running tasks (grace " +
               std::to_string(w_.options.grace.count() / 1000.0).substr(0, 5) + " s)");
        w_.stop();
      });
    });
    w_.started = celery::unix_now();
    if (w_.options.mingle) co_await detail::mingle(w_);  // before the controller listens and the fetcher takes
    w_.log("worker " + w_.name + " consuming " + queue_list() + " from " + w_.endpoint.to_string() + " with " +
           std::to_string(w_.concurrency) + " slots (" + std::string(core::to_string(w_.executor.kind())) + ")");
    co_await declare_queues();
    auto online = worker_fields();
    co_await detail::send_event(w_, "worker-online", std::move(online));

    std::vector<core::task_handle> background;
    background.push_back(core::spawn(loop, fetcher_.run()));
    background.push_back(core::spawn(loop, refresher_.run()));
    background.push_back(core::spawn(loop, restorer_.run()));
    background.push_back(core::spawn(loop, heartbeat_.run()));
    background.push_back(core::spawn(loop, controller_.run()));

    co_await w_.until_stopped();
    co_await background.front().join();  // the fetcher: no pop is left in flight (it ends within a second)

    // Let running tasks finish within the grace period, then requeue the rest
    // once (those waiting for an eta at once: they would wait for nothing).
    const auto deadline = detail::steady_clock::now() + w_.options.grace;
    while (w_.get_alive() > w_.get_waiting_eta() + w_.terminated_running && detail::steady_clock::now() < deadline)
      co_await core::sleep_for(20ms);
    co_await restorer_.requeue_unfinished();
    for (std::size_t k = 1; k < background.size(); ++k) co_await background[k].join();
    auto offline = worker_fields();
    co_await detail::send_event(w_, "worker-offline", std::move(offline));
    co_await heartbeat_.goodbye();
  }

  [[nodiscard]] worker_stats stats() const {
    worker_stats s = w_.stats;
    s.reconnects = w_.get_reconnects();
    s.abandoned_calls = w_.terminated_running;
    return s;
  }
  /// Requeued, or terminated (revoke --terminate) while still running: calls the executor may still complete.
  [[nodiscard]] bool abandoned_any() const { return w_.stats.requeued > 0 || w_.terminated_running > 0; }
  [[nodiscard]] const std::string& name() const { return w_.name; }

 private:
  // What Celery's worker-online and worker-offline events carry.
  static nlohmann::ordered_json worker_fields() {
    return {{"freq", 2.0}, {"sw_ident", "scalekit"}, {"sw_ver", "0.1"}, {"sw_sys", "Linux"}};
  }

  std::string queue_list() const {
    std::string s;
    for (const auto& q : w_.options.queues) s += (s.empty() ? "" : ",") + q;
    return s;
  }

  core::task<void> declare_queues() {
    // kombu's routing table, so that Python tools that route by binding see the queues.
    std::vector<std::vector<std::string>> cmds;
    for (const auto& q : w_.options.queues)
      cmds.push_back(words("SADD", celery::binding_key(q), celery::binding_member(q)));
    auto r = co_await w_.cmd.pipeline(std::move(cmds));
    if (!r.ok()) w_.broker_failed(r.error());
  }

  std::stop_token stop_;
  detail::worker_context w_;
  detail::message_handler handler_;
  detail::fetcher fetcher_;
  detail::refresher refresher_;
  detail::restorer restorer_;
  detail::heartbeat heartbeat_;
  detail::controller controller_;
};

// Keeps `loop` for the rest of the process, never destroyed (handlers of
// abandoned calls may still be posted to it, and refer to a worker that is
// gone), and reachable, so that leak checkers do not report it.
void keep_forever(std::unique_ptr<asio::io_context> loop) {
  static std::mutex mutex;
  static auto* kept = new std::vector<std::unique_ptr<asio::io_context>>();  // never freed, on purpose
  std::scoped_lock lock(mutex);
  kept->push_back(std::move(loop));
}

// "[2024-05-01 12:00:00] ", the local time.
std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "[%Y-%m-%d %H:%M:%S] ", &tm);
  return stamp;
}

core::report make_report(const worker_stats& s, const std::string& name, const core::executor& ex,
                         std::chrono::nanoseconds elapsed) {
  const auto n = [](std::uint64_t v) { return std::to_string(v); };
  core::report r("worker");
  r.work = n(s.received) + " tasks received, " + n(s.succeeded) + " succeeded, " + n(s.failed) + " failed, " +
           n(s.restored) + " restored from dead workers, " + n(s.dead_lettered) + " dead-lettered, " + n(s.requeued) +
           " requeued at shutdown";
  r.elapsed = elapsed;
  r.items = static_cast<double>(s.succeeded + s.failed);
  r.unit = "tasks";
  // The head says these.
  r.add("received", s.received, "");
  r.add("succeeded", s.succeeded, "");
  r.add("failed", s.failed, "");
  r.add("restored", s.restored, "");
  r.add("dead_lettered", s.dead_lettered, "");
  r.add("requeued", s.requeued, "");
  r.add("abandoned_calls", s.abandoned_calls, "");
  r.add("name", name, "");  // the first message said it
  core::add_executor_fields(r, ex);
  r.add("reconnects", s.reconnects, "{} broker reconnects");
  return r;
}

}  // namespace

result<core::report> run_worker(const worker_options& o, core::executor& ex, core::observer& obs) {
  auto ep = redis_endpoint::parse(o.broker);
  if (!ep.ok()) return status::invalid_argument(ep.error().message());
  if (o.queues.empty()) return status::invalid_argument("no queue to consume");
  // Log lines carry what peers sent (task names, ids, exception texts):
  // control characters are shown escaped, never sent to the terminal.
  const detail::log_fn log = [&o, &obs](const std::string& line) {
    const std::string shown = core::printable(line, line.size());
    obs.message(o.log_timestamps ? timestamp() + shown : shown);
  };
  const auto t0 = std::chrono::steady_clock::now();
  // Heap-held: when tasks were abandoned at shutdown the executor may still
  // complete them and post to this loop, so it must outlive them (see below).
  auto loop = std::make_unique<asio::io_context>(1);
  worker_impl w(o, std::move(ep).value(), ex, log, obs.stop_token(), loop->get_executor());
  std::exception_ptr failure;
  asio::co_spawn(*loop, w.main(), [&](std::exception_ptr e) {
    failure = e;
    loop->stop();
  });
  loop->run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return status::internal(std::string("the worker failed: ") + e.what());
    }
  }
  if (w.abandoned_any()) {
    // Calls still running in the executor will post their completion to this
    // loop; keep it (stopped) for the rest of the process, which is about to
    // end without waiting for them. Worker processes can end now.
    ex.cancel();
    keep_forever(std::move(loop));
  }
  return make_report(w.stats(), w.name(), ex, std::chrono::steady_clock::now() - t0);
}

}  // namespace scalekit::taskqueue
