// The executors a serve worker's jobs run on: its own (--executor), the ones
// a tile asks for (made at their first use), the distributed workers of
// --broker; and the reply when the distributed workers gave no result in time.

#include <fmt/format.h>

#include <string>

#include "scalekit/taskqueue/client.h"
#include "scalekit/taskqueue/redis.h"
#include "scalekit/taskqueue/worker.h"
#include "worker_detail.h"

namespace scalekit::serve {

namespace {

net::http_response reply(int status, std::string body) {
  net::http_response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

}  // namespace

std::unique_ptr<core::executor> native_endpoints::make_executor(core::executor_kind kind) const {
  if (kind == core::executor_kind::distributed) {
    taskqueue::distributed_options d;
    d.broker = o_.broker;
    d.queue = o_.broker_queue;
    d.celery_tasks = false;  // tiles of any region, traced: scalekit.run, which scalekit workers serve
    d.jobs = o_.jobs;
    d.task_timeout = o_.broker_timeout;
    d.max_unsent_tasks = o_.broker_backlog;
    d.max_unsent_bytes = options::broker_backlog_bytes;
    d.log = log_;
    return taskqueue::make_distributed_executor(d);
  }
  core::executor_options eo;
  eo.jobs = o_.jobs;
  return core::make_executor(kind, eo);
}

core::executor* native_endpoints::executor_named(std::string_view name) {
  const auto kind = core::parse_executor_kind(name);
  if (!kind) return nullptr;
  if (name == o_.executor) return jobs_.get();
  if (*kind == core::executor_kind::distributed && o_.broker.empty()) return nullptr;
  // Each made once per worker, at its first use, and kept.
  std::scoped_lock lock(others_mutex_);
  for (auto& [k, ex] : others_)
    if (k == *kind) return ex.get();
  try {
    others_.emplace_back(*kind, make_executor(*kind));
  } catch (const std::exception&) {
    return nullptr;
  }
  return others_.back().second.get();
}

net::http_response native_endpoints::failure(const status& why) const {
  const bool waited = why.code() == status_code::timeout || why.code() == status_code::cancelled;
  if (!o_.broker.empty() && why.code() == status_code::too_large) {  // the broker is behind: refused at once
    auto r = reply(503, why.message() + "\n");
    r.headers.push_back({"Retry-After", "5"});
    return r;
  }
  if (o_.broker.empty() || !waited) return reply(500, why.message() + "\n");
  if (why.code() == status_code::cancelled) {
    auto r = reply(503, "the server is stopping: " + why.message() + "\n");
    r.headers.push_back({"Retry-After", "1"});
    return r;
  }
  // Why no result came: asked of the broker now, as `scalekit worker --status` would.
  const auto ep = taskqueue::redis_endpoint::parse(o_.broker);
  const std::string broker = ep.ok() ? ep->to_string() : o_.broker;
  const std::string waited_for = fmt::format("{:g} s", static_cast<double>(o_.broker_timeout.count()) / 1000);
  // Briefly: the request has waited --broker-timeout already, and a paused Redis never answers.
  auto st = taskqueue::query_status(o_.broker, {o_.broker_queue}, std::chrono::seconds(30), std::chrono::seconds(1));
  net::http_response r;
  if (!st.ok()) {
    r = reply(503, fmt::format("the broker {} does not answer ({}); no result in {}\n", broker, st.error().message(),
                               waited_for));
  } else if (st->workers.empty()) {
    r = reply(503, fmt::format("no distributed worker is alive on {} (start one: scalekit worker --broker {}); "
                               "no result in {}, {} tasks wait in queue '{}'\n",
                               broker, broker, waited_for, st->waiting, o_.broker_queue));
  } else {
    return reply(504, fmt::format("the distributed workers gave no result in {} ({} live, {} tasks waiting in "
                                  "queue '{}'): {}\n",
                                  waited_for, st->workers.size(), st->waiting, o_.broker_queue, why.message()));
  }
  r.headers.push_back({"Retry-After", "5"});
  return r;
}

}  // namespace scalekit::serve
