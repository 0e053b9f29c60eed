// The status document is written here (heartbeat::run) and read here
// (query_status), so its keys are in one file.

#include "heartbeat.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/envelope.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue {

namespace detail {

namespace {
using namespace std::chrono_literals;
constexpr auto heartbeat_every = 2s;
constexpr int heartbeat_expiry_s = 10;
}  // namespace

heartbeat::heartbeat(worker_context& w) : w_(w), key_(celery::worker_key(w.name, ::getpid())) {}

core::task<void> heartbeat::run() {
  const std::string channel = celery::heartbeat_channel(w_.endpoint.db);
  std::uint64_t clock_tick = 0;
  while (!w_.stopping()) {
    const double now = celery::unix_now();
    nlohmann::json status{{"name", w_.name},
                          {"pid", ::getpid()},
                          {"queues", w_.options.queues},
                          {"concurrency", w_.concurrency},
                          {"pool", core::to_string(w_.executor.kind())},
                          {"active", w_.get_busy()},
                          {"processed", w_.stats.succeeded + w_.stats.failed},
                          {"failed", w_.stats.failed},
                          {"started", w_.started},
                          {"last_fetch", w_.last_fetch},
                          {"time", now}};
    // Celery's own heartbeat event, for monitoring tools that listen for it.
    nlohmann::json event{{"hostname", w_.name},
                         {"utcoffset", 0},
                         {"pid", ::getpid()},
                         {"clock", ++clock_tick},
                         {"freq", 2.0},
                         {"active", w_.get_busy()},
                         {"processed", w_.stats.succeeded + w_.stats.failed},
                         {"loadavg", nlohmann::json::array({0.0, 0.0, 0.0})},
                         {"sw_ident", "scalekit"},
                         {"sw_ver", "0.1"},
                         {"sw_sys", "Linux"},
                         {"timestamp", now},
                         {"type", "worker-heartbeat"}};
    nlohmann::json envelope{{"body", celery::base64_encode(event.dump())},
                            {"content-encoding", "utf-8"},
                            {"content-type", "application/json"},
                            {"headers", {{"hostname", w_.name}}},
                            {"properties",
                             {{"delivery_mode", 1},
                              {"delivery_info", {{"exchange", "celeryev"}, {"routing_key", "worker.heartbeat"}}},
                              {"priority", 0},
                              {"body_encoding", "base64"},
                              {"delivery_tag", celery::new_uuid()}}}};
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(words("SETEX", key_, std::to_string(heartbeat_expiry_s), status.dump()));
    cmds.push_back(words("PUBLISH", channel, envelope.dump()));
    co_await w_.cmd.pipeline(std::move(cmds));  // a missed heartbeat is harmless
    co_await w_.nap(heartbeat_every);
  }
}

core::task<void> heartbeat::goodbye() { co_await w_.cmd.command(words("DEL", key_)); }

}  // namespace detail

// ---- status ----

std::string worker_name(const worker_options& o) {
  return o.hostname.empty() ? "scalekit@" + celery::host_name() : o.hostname;
}

std::string worker_label(const std::string& name, int pid) { return name + " (pid " + std::to_string(pid) + ")"; }

result<status_report> query_status(const std::string& broker, const std::vector<std::string>& queues,
                                   std::chrono::seconds stall_after, std::chrono::milliseconds connect_timeout) {
  auto ep = redis_endpoint::parse(broker);
  if (!ep.ok()) return ep.error();
  status_report rep;
  status failure;
  core::run_until_complete([](redis_endpoint e, std::vector<std::string> qs, std::chrono::seconds stall,
                              std::chrono::milliseconds connect_within, status_report& out,
                              status& err) -> core::task<void> {
    redis_client db(co_await core::this_executor(), e);
    db.set_connect_timeout(connect_within);  // a paused Redis accepts, and never answers the PING
    // Live workers: their heartbeat keys.
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      auto r = co_await db.command(
          words("SCAN", cursor, "MATCH", std::string(celery::worker_key_prefix) + "*", "COUNT", "1000"));
      if (!r.ok()) {
        err = r.error();
        co_return;
      }
      // An error reply (LOADING, an ACL that forbids SCAN) or anything but [cursor, keys]: no reading.
      if (r->type != redis_reply::kind::array || r->elements.size() != 2) {
        err = status::io_error("redis " + e.to_string() + ": SCAN answered " +
                               (r->is_error() ? r->str : std::string("something else than [cursor, keys]")));
        co_return;
      }
      cursor = r->elements[0].str;
      for (const auto& k : r->elements[1].elements) keys.push_back(k.str);
    } while (cursor != "0");
    const double now = celery::unix_now();
    double newest_fetch = 0;
    for (const auto& k : keys) {
      auto v = co_await db.command(words("GET", k));
      if (!v.ok() || v->is_nil()) continue;
      try {
        const auto j = nlohmann::json::parse(v->str);
        status_report::worker_info w;
        w.name = worker_label(j.value("name", k), j.value("pid", 0));
        w.active = j.value("active", 0ull);
        w.processed = j.value("processed", 0ull);
        w.failed = j.value("failed", 0ull);
        w.concurrency = j.value("concurrency", 0ull);
        w.pool = j.value("pool", std::string());
        const double last = j.value("last_fetch", 0.0);
        w.last_fetch_age_s = last > 0 ? now - last : -1;
        newest_fetch = std::max(newest_fetch, last);
        out.workers.push_back(std::move(w));
      } catch (const nlohmann::json::exception&) {
      }
    }
    for (const auto& q : qs) {
      for (const auto& key : celery::queue_keys(q)) {
        auto n = co_await db.command(words("LLEN", key));
        if (n.ok()) out.waiting += static_cast<std::uint64_t>(n->integer);
        auto oldest = co_await db.command(words("LINDEX", key, "-1"));  // the consuming end holds the oldest
        if (oldest.ok() && !oldest->is_nil()) {
          auto m = celery::parse_envelope(oldest->str);
          if (m.ok() && m->published)
            out.oldest_waiting_age_s = std::max(out.oldest_waiting_age_s, now - *m->published);
        }
      }
      auto dl = co_await db.command(words("LLEN", celery::dead_letter_key(q)));
      if (dl.ok()) out.dead_letters += static_cast<std::uint64_t>(dl->integer);
    }
    auto un = co_await db.command(words("HLEN", celery::unacked_key));
    if (un.ok()) out.unacked = static_cast<std::uint64_t>(un->integer);
    const double stalled = newest_fetch > 0 ? now - newest_fetch : -1;
    if (out.waiting > 0 && out.workers.empty()) {
      out.consuming = false;
      out.verdict = "not consuming: " + std::to_string(out.waiting) + " tasks wait and no worker is alive";
    } else if (out.waiting > 0 && (newest_fetch == 0 || stalled > static_cast<double>(stall.count()))) {
      out.consuming = false;
      out.verdict = "not consuming: " + std::to_string(out.waiting) + " tasks wait and no worker has fetched one for " +
                    (newest_fetch == 0 ? std::string("ever") : std::to_string(static_cast<long>(stalled)) + " s");
    } else {
      out.verdict = out.waiting == 0 && out.unacked == 0 ? "idle" : "ok";
    }
  }(std::move(ep).value(), queues, stall_after, connect_timeout, rep, failure));
  if (!failure.ok()) return failure;
  return rep;
}

}  // namespace scalekit::taskqueue
