#include "mingle.h"

#include <nlohmann/json.hpp>
#include <set>

#include "scalekit/taskqueue/control.h"
#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::detail {

namespace {

constexpr double wait_s = 1.0;  // Celery's mingle waits a second for replies
const char* const reply_binding = "_kombu.binding.reply.celery.pidbox";

}  // namespace

std::size_t take_revoked(worker_context& w, const nlohmann::json& revoked, double now) {
  std::size_t n = 0;
  if (revoked.is_object()) {
    for (const auto& item : revoked.items()) {
      w.revoked.add(item.key(), now);
      ++n;
    }
  } else if (revoked.is_array()) {
    for (const auto& id : revoked)
      if (id.is_string()) {
        w.revoked.add(id.get<std::string>(), now);
        ++n;
      }
  }
  return n;
}

core::task<void> mingle(worker_context& w) {
  const std::string channel = celery::pidbox_channel(w.endpoint.db);
  // Who may answer: scalekit workers SUBSCRIBE to the channel, Celery's
  // (kombu) PSUBSCRIBE to a pattern that matches it; Redis counts pattern
  // subscriptions only in total, so other patterns (event receivers) count
  // too, and the wait is then the whole second.
  std::vector<std::vector<std::string>> count;
  count.push_back(words("PUBSUB", "NUMSUB", channel));
  count.push_back(words("PUBSUB", "NUMPAT"));
  auto counted = co_await w.cmd.pipeline(std::move(count));
  if (!counted.ok() || (*counted)[0].elements.size() != 2 || (*counted)[1].type != redis_reply::kind::integer) {
    w.log("mingle: skipped (" + (counted.ok() ? std::string("no answer to PUBSUB") : counted.error().message()) + ")");
    co_return;
  }
  // Our own controller listens only after this.
  const long long others = (*counted)[0].elements[1].integer + (*counted)[1].integer;
  if (others <= 0) {
    w.log("mingle: all alone");
    co_return;
  }
  const std::string oid = celery::new_uuid(), ticket = celery::new_uuid(), queue = celery::reply_queue_of(oid);
  const double now = celery::unix_now();
  const std::string arguments = nlohmann::json{{"from_node", w.name}, {"revoked", nlohmann::json::object()}}.dump();
  std::vector<std::vector<std::string>> setup;
  setup.push_back(words("SADD", reply_binding, celery::reply_binding_member(oid)));
  setup.push_back(
      words("PUBLISH", channel, celery::make_control_request("hello", arguments, ticket, oid, now + wait_s, 1)));
  auto sent = co_await w.cmd.pipeline(std::move(setup));
  std::set<std::string> nodes;
  std::size_t ids = 0;
  while (sent.ok() && static_cast<long long>(nodes.size()) < others) {
    const double left = now + wait_s - celery::unix_now();
    if (left <= 0) break;
    auto r = co_await w.pop.command(words("BRPOP", queue, seconds_text(left)));
    if (!r.ok() || r->type != redis_reply::kind::array || r->elements.size() != 2) break;  // the second has passed
    auto reply = celery::parse_control_reply(r->elements[1].str);
    if (!reply.ok() || reply->ticket != ticket) continue;
    if (reply->hostname == w.name) {  // not ours: our controller does not listen yet
      w.log("mingle: another worker is named " + w.name + " too: give each a name of its own (-n)");
      continue;
    }
    nodes.insert(reply->hostname);
    const auto body = nlohmann::json::parse(reply->reply_json, nullptr, false);
    if (body.is_object() && body.contains("revoked")) ids += take_revoked(w, body["revoked"], celery::unix_now());
  }
  std::vector<std::vector<std::string>> cleanup;
  cleanup.push_back(words("SREM", reply_binding, celery::reply_binding_member(oid)));
  cleanup.push_back(words("DEL", queue));
  co_await w.cmd.pipeline(std::move(cleanup));
  w.log(nodes.empty()
            ? std::string("mingle: all alone (no replies)")
            : "mingle: sync with " + std::to_string(nodes.size()) + " nodes (" + std::to_string(ids) + " revoked ids)");
}

}  // namespace scalekit::taskqueue::detail
