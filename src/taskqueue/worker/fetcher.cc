#include "fetcher.h"

#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::detail {

using namespace std::chrono_literals;

core::task<void> fetcher::run() {
  std::vector<std::string> keys;
  for (const auto& q : w_.options.queues)
    for (auto& k : celery::queue_keys(q)) keys.push_back(std::move(k));
  const std::size_t limit = w_.get_slot_limit();
  auto backoff = 50ms;
  bool blmpop = true;
  const auto loop = co_await core::this_executor();
  while (!w_.stopping()) {
    if (w_.get_busy() >= limit) {
      co_await w_.wait_for_slot(1s);
      continue;
    }
    const std::size_t want = limit - w_.get_busy();
    std::vector<std::string> cmd;
    if (blmpop && want > 1) {
      cmd = words("BLMPOP", "1", std::to_string(keys.size()));  // a 1 s wait, so that a stop is noticed
      cmd.insert(cmd.end(), keys.begin(), keys.end());
      cmd.push_back("RIGHT");
      cmd.push_back("COUNT");
      cmd.push_back(std::to_string(want));
    } else {
      cmd = words("BRPOP");
      cmd.insert(cmd.end(), keys.begin(), keys.end());
      cmd.push_back("1");
    }
    auto r = co_await w_.pop.command(std::move(cmd));
    if (!r.ok()) {
      w_.broker_failed(r.error());
      co_await core::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
      continue;
    }
    backoff = 50ms;
    w_.broker_ok();
    if (r->is_error()) {
      if (blmpop && want > 1 && r->str.find("unknown command") != std::string::npos) {
        blmpop = false;  // Redis before 7.0
        continue;
      }
      w_.log("fetching failed: " + r->str);
      co_await core::sleep_for(1s);
      continue;
    }
    if (r->type != redis_reply::kind::array || r->elements.size() != 2) continue;  // a timeout
    std::string& key = r->elements[0].str;
    if (w_.stopping()) {  // popped after the stop: not ours to run, back where it was (the consuming end)
      co_await put_back(std::move(*r));
      break;
    }
    w_.last_fetch = celery::unix_now();
    if (r->elements[1].type == redis_reply::kind::array) {  // BLMPOP: [key, [messages...]]
      for (auto& msg : r->elements[1].elements) {
        w_.take_slot();
        core::spawn(loop, handler_.handle(std::move(msg.str), key));
      }
    } else {  // BRPOP: [key, message]
      w_.take_slot();
      core::spawn(loop, handler_.handle(std::move(r->elements[1].str), std::move(key)));
    }
  }
}

core::task<void> fetcher::put_back(redis_reply popped) {
  std::vector<std::vector<std::string>> cmds;
  const std::string& key = popped.elements[0].str;
  if (popped.elements[1].type == redis_reply::kind::array) {
    // BLMPOP took them from the right in this order: the first goes back last.
    auto& msgs = popped.elements[1].elements;
    for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) cmds.push_back(words("RPUSH", key, std::move(it->str)));
  } else {
    cmds.push_back(words("RPUSH", key, std::move(popped.elements[1].str)));
  }
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
}

}  // namespace scalekit::taskqueue::detail
