// The distributed executor: a loop thread that publishes Celery task messages
// and completes calls as their results arrive (SUBSCRIBE on each result's
// channel before publishing, as Celery's client does; MGET once a second as a
// safety net; a broker that restarted empty gets the missing tasks again).

#include "scalekit/taskqueue/client.h"

#include <algorithm>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "scalekit/core/wire.h"
#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/builtin_tasks.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"
#include "scalekit/taskqueue/packing.h"
#include "scalekit/taskqueue/redis.h"
#include "scalekit/taskqueue/result_meta.h"
#include "scalekit/taskqueue/worker.h"

namespace scalekit::taskqueue {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
constexpr std::size_t publish_chunk = 500;  // LPUSHes per pipeline

std::mutex mapping_mutex;
std::map<std::string, celery_mapping, std::less<>>& mappings() {
  static std::map<std::string, celery_mapping, std::less<>> m;
  return m;
}

const celery_mapping* find_mapping(std::string_view core_task) {
  std::scoped_lock lock(mapping_mutex);
  auto it = mappings().find(core_task);
  return it == mappings().end() ? nullptr : &it->second;
}

std::string run_id_of(const redis_reply& info) {
  const auto at = info.str.find("run_id:");
  if (at == std::string::npos) return {};
  return info.str.substr(at + 7, info.str.find_first_of("\r\n", at) - at - 7);
}

class distributed_executor final : public core::executor {
 public:
  explicit distributed_executor(distributed_options o, redis_endpoint ep)
      : o_(std::move(o)), ep_(std::move(ep)), work_(asio::make_work_guard(ctx_)) {
    jobs_ = o_.jobs;
    if (jobs_ == 0) {
      auto st = query_status(o_.broker, {o_.queue});
      std::size_t slots = 0;
      if (st.ok())
        for (const auto& w : st->workers) slots += w.concurrency;
      jobs_ = std::max<std::size_t>(slots, core::default_jobs());
    }
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~distributed_executor() override { close(); }

  void dispatch(std::vector<core::task_call> calls, core::completion_fn done) override {
    if (calls.empty()) return;
    {
      std::scoped_lock lock(mutex_);
      if (!closing_) {
        outstanding_ += calls.size();
        asio::co_spawn(ctx_, publish(std::move(calls), std::move(done)), asio::detached);
        return;
      }
    }
    for (std::size_t i = 0; i < calls.size(); ++i)
      done(i, status::cancelled("task '" + calls[i].name + "' not run: executor closed"));
  }

  void close() override {
    {
      std::unique_lock lock(mutex_);
      closing_ = true;
      idle_.wait(lock, [&] { return outstanding_ == 0; });
    }
    stop_loop();
  }

  void terminate() override {
    {
      std::scoped_lock lock(mutex_);
      closing_ = true;
    }
    asio::post(ctx_, [this] { cancel_all("executor terminated"); });
    close();
  }

  // Calls waiting for their results complete as cancelled at once; the tasks
  // already published run on the workers anyway (their results expire).
  void cancel() noexcept override {
    {
      std::scoped_lock lock(mutex_);
      closing_ = true;
    }
    asio::post(ctx_, [this] { cancel_all("cancelled"); });
  }

  [[nodiscard]] core::executor_kind kind() const noexcept override { return core::executor_kind::distributed; }
  [[nodiscard]] std::size_t concurrency() const noexcept override { return jobs_; }

 private:
  // One dispatched call and what its Celery tasks have returned so far.
  struct call_state {
    core::task_call call;
    std::size_t index;
    std::shared_ptr<core::completion_fn> done;
    const celery_mapping* mapping = nullptr;
    std::vector<std::string> results;
    std::size_t remaining = 0;
    bool finished = false;
  };
  // One published Celery task.
  struct task_ref {
    std::shared_ptr<call_state> call;
    std::size_t part;
    std::string name, args;
    clock::time_point sent;
  };

  void stop_loop() {
    if (stopped_.exchange(true)) return;
    // The loop closes its own connections, then stops (the safety net may be asleep).
    asio::post(ctx_, [this] {
      sub_.reset();
      db_.reset();
      ctx_.stop();
    });
    work_.reset();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  void log(const std::string& line) {
    if (o_.log) o_.log(line);
  }

  core::task<void> ensure_clients() {
    if (db_) co_return;
    auto loop = co_await core::this_executor();
    db_ = std::make_unique<redis_client>(loop, ep_);
    sub_ = std::make_unique<redis_subscriber>(
        loop, ep_, [this](const std::string& channel, const std::string& payload) { on_message(channel, payload); },
        [this] { asio::co_spawn(ctx_, after_reconnect(), asio::detached); });
    auto info = co_await db_->command(words("INFO", "server"));
    if (info.ok()) run_id_ = run_id_of(info.value());
    asio::co_spawn(ctx_, safety_net(), asio::detached);
  }

  core::task<void> publish(std::vector<core::task_call> calls, core::completion_fn done_fn) {
    auto done = std::make_shared<core::completion_fn>(std::move(done_fn));
    const std::string group = celery::new_uuid();
    std::vector<std::string> ids, channels, envelopes;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      auto c = std::make_shared<call_state>();
      c->index = i;
      c->done = done;
      c->call = std::move(calls[i]);
      c->mapping = o_.celery_tasks ? find_mapping(c->call.name) : nullptr;
      std::vector<std::pair<std::string, std::string>> tasks;
      try {
        if (c->mapping) tasks = c->mapping->to_tasks(c->call.payload);
        if (tasks.empty()) {  // no mapping, or one that cannot express this call
          c->mapping = nullptr;
          tasks.emplace_back(celery::run_task_name,
                             nlohmann::json::array({c->call.name, celery::base64_encode(c->call.payload)}).dump());
        }
      } catch (const std::exception& e) {
        complete(*c, status::invalid_argument("task '" + c->call.name + "': " + e.what()));
        continue;
      }
      c->results.resize(tasks.size());
      c->remaining = tasks.size();
      for (std::size_t part = 0; part < tasks.size(); ++part) {
        celery::publish_options po;
        po.queue = o_.queue;
        po.group = group;
        std::string id;
        envelopes.push_back(celery::make_envelope(tasks[part].first, tasks[part].second, "{}", po, &id));
        channels.push_back(celery::meta_key(id));
        tasks_[id] = task_ref{c, part, tasks[part].first, tasks[part].second, clock::now()};
        ids.push_back(std::move(id));
      }
    }
    if (ids.empty()) co_return;
    const unsent held(*this, envelopes);
    if (!held.admitted) {
      refuse(ids);
      co_return;
    }
    // The deadline runs from the dispatch, before the first connection: a paused Redis
    // accepts it and never answers, and holds ensure_clients() for its whole connect timeout.
    if (o_.task_timeout.count() > 0) asio::co_spawn(ctx_, expire(ids), asio::detached);
    co_await ensure_clients();
    // Subscribe first, so that no result can be published unseen.
    co_await sub_->subscribe(channels);
    co_await push(o_.queue, std::move(envelopes), std::move(ids));
  }

  // One publish's tasks, counted as unsent until the broker has taken them
  // (or the publish gave up); not admitted past o_.max_unsent_*.
  struct unsent {
    unsent(distributed_executor& e, const std::vector<std::string>& envelopes) : ex(e), tasks(envelopes.size()) {
      for (const auto& m : envelopes) bytes += m.size();
      const bool full = (ex.o_.max_unsent_tasks > 0 && ex.unsent_tasks_ + tasks > ex.o_.max_unsent_tasks) ||
                        (ex.o_.max_unsent_bytes > 0 && ex.unsent_bytes_ + bytes > ex.o_.max_unsent_bytes);
      admitted = !full || ex.unsent_tasks_ == 0;  // one publish larger than the bound alone still goes
      if (!admitted) return;
      ex.unsent_tasks_ += tasks;
      ex.unsent_bytes_ += bytes;
    }
    ~unsent() {
      if (!admitted) return;
      ex.unsent_tasks_ -= tasks;
      ex.unsent_bytes_ -= bytes;
      if (ex.backlog_full_ && ex.unsent_tasks_ == 0) {
        ex.backlog_full_ = false;
        ex.log("the broker " + ex.ep_.to_string() + " has taken the tasks that waited; publishing again");
      }
    }
    unsent(const unsent&) = delete;
    unsent& operator=(const unsent&) = delete;
    distributed_executor& ex;
    std::size_t tasks, bytes = 0;
    bool admitted = false;
  };

  // The calls of these tasks fail at once: the broker has not taken what waits.
  void refuse(const std::vector<std::string>& ids) {
    const std::string why = "the broker " + ep_.to_string() + " has not taken " + std::to_string(unsent_tasks_) +
                            " tasks (" + std::to_string(unsent_bytes_) + " bytes) yet";
    if (!backlog_full_)
      log(why + ": refusing new tasks until it does (bounds: " + std::to_string(o_.max_unsent_tasks) + " tasks, " +
          std::to_string(o_.max_unsent_bytes) + " bytes)");
    backlog_full_ = true;
    for (const auto& id : ids) {
      auto it = tasks_.find(id);
      if (it == tasks_.end()) continue;
      task_ref ref = std::move(it->second);
      tasks_.erase(it);
      complete(*ref.call, status::too_large("task " + ref.name + " not published: " + why));
    }
  }

  // Whether a call still waits for one of these tasks (none: they all timed out meanwhile).
  [[nodiscard]] bool still_wanted(const std::vector<std::string>& ids) const {
    return std::any_of(ids.begin(), ids.end(), [this](const std::string& id) { return tasks_.count(id) != 0; });
  }

  // LPUSH envelopes (of the tasks `ids`), in pipelines, until the broker takes
  // them all, or until no call waits for them any more: an unreachable broker
  // holds only the tasks of calls that have not timed out.
  core::task<void> push(const std::string& queue, std::vector<std::string> envelopes, std::vector<std::string> ids) {
    const std::string key = celery::queue_key(queue);
    for (std::size_t start = 0; start < envelopes.size(); start += publish_chunk) {
      std::vector<std::vector<std::string>> cmds;
      if (start == 0) cmds.push_back(words("SADD", celery::binding_key(queue), celery::binding_member(queue)));
      for (std::size_t i = start; i < std::min(envelopes.size(), start + publish_chunk); ++i)
        cmds.push_back(words("LPUSH", key, std::move(envelopes[i])));
      auto backoff = 50ms;
      for (;;) {
        auto r = co_await db_->pipeline(cmds);
        if (r.ok()) {
          if (publish_failing_)
            log("publishing to " + ep_.to_string() + " again (" + std::to_string(dropped_) +
                " tasks dropped meanwhile: their calls had timed out)");
          publish_failing_ = false;
          dropped_ = 0;
          break;
        }
        // One line when publishing starts to fail, not one per retry of every dispatch.
        if (!publish_failing_)
          log("cannot publish to " + ep_.to_string() + " (" + r.error().message() + "); retrying" +
              (o_.task_timeout.count() > 0 ? ", and dropping the tasks of calls that time out meanwhile" : ""));
        publish_failing_ = true;
        if (!still_wanted(ids)) {
          dropped_ += envelopes.size() - start;
          co_return;
        }
        co_await core::sleep_for(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
      }
    }
  }

  // o_.task_timeout after a dispatch: its calls still without a result complete as timed out.
  core::task<void> expire(std::vector<std::string> ids) {
    co_await core::sleep_for(o_.task_timeout);
    std::vector<std::string> channels;
    for (const auto& id : ids) {
      auto it = tasks_.find(id);
      if (it == tasks_.end()) continue;
      task_ref ref = std::move(it->second);
      tasks_.erase(it);
      channels.push_back(celery::meta_key(id));
      complete(*ref.call, status::timeout("task " + ref.name + "[" + id + "]: no result within " +
                                          std::to_string(o_.task_timeout.count()) + " ms"));
    }
    if (!channels.empty() && sub_) sub_->unsubscribe(channels);
  }

  void on_message(const std::string& channel, const std::string& payload) {
    if (channel.rfind(celery::meta_key_prefix, 0) != 0) return;
    handle_meta(channel.substr(celery::meta_key_prefix.size()), payload);
  }

  void handle_meta(const std::string& id, const std::string& meta) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;  // a duplicate, or a result we already have
    auto state = celery::parse_meta(meta);
    if (state.ok() && !state->ready()) return;  // RETRY, STARTED...: wait on
    task_ref ref = std::move(it->second);
    tasks_.erase(it);
    std::vector<std::string> chan;
    chan.push_back(celery::meta_key(id));
    sub_->unsubscribe(chan);
    call_state& c = *ref.call;
    if (c.finished) return;
    if (!state.ok()) {
      complete(c, status::corruption("task " + ref.name + "[" + id + "]: " + state.error().message()));
      return;
    }
    if (state->status != "SUCCESS") {
      const std::string why = state->status == "FAILURE" ? state->exc_type + ": " + state->exc_message : state->status;
      complete(c, status::task_failed("task " + ref.name + "[" + id + "] failed on a worker: " + why));
      return;
    }
    c.results[ref.part] = std::move(state->result_json);
    if (--c.remaining > 0) return;
    try {
      if (c.mapping) {
        complete(c, c.mapping->from_results(c.call.payload, c.results));
      } else {
        auto bytes = celery::unpack_bytes(c.results[0]);
        if (!bytes.ok()) throw std::runtime_error(bytes.error().message());
        complete(c, std::move(bytes).value());
      }
    } catch (const std::exception& e) {
      complete(c, status::corruption("task '" + c.call.name + "': bad result: " + e.what()));
    }
  }

  void complete(call_state& c, result<core::bytes> r) {
    if (c.finished) return;
    c.finished = true;
    if (r.ok()) {
      stats_.completed.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
    }
    (*c.done)(c.index, std::move(r));
    std::scoped_lock lock(mutex_);
    if (--outstanding_ == 0) idle_.notify_all();
  }

  void cancel_all(const std::string& why) {
    auto tasks = std::move(tasks_);
    tasks_.clear();
    for (auto& [id, ref] : tasks)
      complete(*ref.call, status::cancelled("task '" + ref.call->call.name + "' not run: " + why));
  }

  // Results whose PUBLISH we missed (a subscriber reconnect), and tasks that
  // need sending again.
  core::task<void> safety_net() {
    while (!stopped_ && db_) {
      co_await core::sleep_for(1s);
      if (tasks_.empty()) continue;
      co_await fetch_missing();
      if (o_.resend_after.count() > 0) co_await resend(clock::now() - o_.resend_after);
    }
  }

  core::task<void> fetch_missing() {
    std::vector<std::string> ids;
    ids.reserve(tasks_.size());
    for (const auto& [id, ref] : tasks_) ids.push_back(id);
    for (std::size_t start = 0; start < ids.size(); start += 1000) {
      std::vector<std::string> mget{"MGET"};
      for (std::size_t i = start; i < std::min(ids.size(), start + 1000); ++i) mget.push_back(celery::meta_key(ids[i]));
      auto r = co_await db_->command(std::move(mget));
      if (!r.ok() || r->type != redis_reply::kind::array) co_return;
      for (std::size_t i = 0; i < r->elements.size(); ++i)
        if (!r->elements[i].is_nil()) handle_meta(ids[start + i], r->elements[i].str);
    }
  }

  // Publish again (same task id, new delivery tag) what was sent before `older_than` and has no result.
  core::task<void> resend(clock::time_point older_than) {
    std::vector<std::string> ids, envelopes;
    for (auto& [id, ref] : tasks_) {
      if (ref.sent > older_than) continue;
      celery::publish_options po;
      po.queue = o_.queue;
      po.id = id;
      envelopes.push_back(celery::make_envelope(ref.name, ref.args, "{}", po));
      ids.push_back(id);
      ref.sent = clock::now();
    }
    if (envelopes.empty()) co_return;
    log("republishing " + std::to_string(envelopes.size()) + " tasks without a result");
    co_await push(o_.queue, std::move(envelopes), std::move(ids));
  }

  // The subscriber came back: collect what was published meanwhile; if the
  // broker itself restarted (a new run_id), it may have lost queued tasks:
  // send the missing ones again.
  core::task<void> after_reconnect() {
    if (!db_) co_return;
    co_await fetch_missing();
    auto info = co_await db_->command(words("INFO", "server"));
    if (!info.ok()) co_return;
    const std::string now_id = run_id_of(info.value());
    if (!now_id.empty() && !run_id_.empty() && now_id != run_id_) {
      run_id_ = now_id;
      log("the broker restarted; sending the tasks without a result again");
      co_await resend(clock::now());
    }
  }

  distributed_options o_;
  redis_endpoint ep_;
  std::size_t jobs_ = 1;
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable idle_;
  // State below is protected by mutex_.
  std::size_t outstanding_ = 0;
  bool closing_ = false;
  // Loop-thread only.
  std::unique_ptr<redis_client> db_;
  std::unique_ptr<redis_subscriber> sub_;
  std::unordered_map<std::string, task_ref> tasks_;
  std::string run_id_;
  bool publish_failing_ = false;                     // since the last publish that failed; said once
  std::size_t unsent_tasks_ = 0, unsent_bytes_ = 0;  // published, not yet taken by the broker (unsent)
  bool backlog_full_ = false;                        // a publish was refused since the broker last caught up
  std::size_t dropped_ = 0;                          // tasks not published meanwhile: their calls had timed out
};

}  // namespace

void register_celery_mapping(const std::string& core_task, celery_mapping m) {
  std::scoped_lock lock(mapping_mutex);
  mappings()[core_task] = std::move(m);
}

std::vector<result<std::string>> run_celery_tasks(const distributed_options& o,
                                                  const std::vector<std::pair<std::string, std::string>>& tasks) {
  // Each call is one Celery task, through a mapping of a core task name that
  // no worker registers: the payload names the task and its arguments.
  static const char* raw_call = "celery.call";
  static std::once_flag once;
  std::call_once(once, [] {
    register_celery_mapping(raw_call,
                            {[](std::string_view payload) {
                               core::wire_reader in(payload);
                               std::string name(in.get_string());
                               std::string args(in.get_string());
                               return std::vector<std::pair<std::string, std::string>>{{name, args}};
                             },
                             [](std::string_view, const std::vector<std::string>& results) { return results.at(0); }});
  });
  distributed_options d = o;
  d.celery_tasks = true;
  if (d.jobs == 0) d.jobs = 1;  // nothing is sized by it here: skip asking for the live workers
  auto ex = make_distributed_executor(d);
  std::vector<core::task_call> calls;
  calls.reserve(tasks.size());
  for (const auto& [name, args] : tasks)
    calls.push_back(core::task_call{raw_call, core::wire_writer().put_string(name).put_string(args).take()});
  auto results = ex->run_calls(std::move(calls));
  ex->close();
  return results;
}

std::unique_ptr<core::executor> make_distributed_executor(const distributed_options& o) {
  auto ep = redis_endpoint::parse(o.broker);
  if (!ep.ok()) throw std::invalid_argument(ep.error().message());
  return std::make_unique<distributed_executor>(o, std::move(ep).value());
}

}  // namespace scalekit::taskqueue
