#include "fetcher.h"

#include <algorithm>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "scalekit/taskqueue/ids.h"
#include "scalekit/taskqueue/keys.h"

namespace scalekit::taskqueue::detail {

namespace {

using namespace std::chrono_literals;

// KEYS: the lists, highest priority first, then unacked and unacked_index.
// ARGV: how many to take, now (seconds), the largest message it reserves,
// the deliveries counters' prefix and their expiry (seconds), the largest
// message the worker accepts (--max-message-size), the worker's name, the
// dead letters' expiry (seconds), then each list's dead-letter key.
// Returns key, message, tag, id, deliveries, refused for each message taken;
// tag "" when it was not reserved (not a task message the script can read,
// or too large to decode inside Redis: the handler reserves or refuses it).
// A message over --max-message-size never leaves Redis: the script
// dead-letters it (the entry the worker would write, spec 9) and returns its
// size as `refused`, "" for the message and the id found near its end (the
// envelope's headers follow its body), so the worker's memory does not grow
// with what a producer sends. The unacked value is the envelope as popped,
// as in kombu (spec 5.2).
const char* const take_script = R"lua(
local nlists = #KEYS - 2
local unacked, index = KEYS[nlists + 1], KEYS[nlists + 2]
local want, limit, hard = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[6])
local out, taken = {}, 0
for i = 1, nlists do
  while taken < want do
    local raw = redis.call('RPOP', KEYS[i])
    if not raw then break end
    taken = taken + 1
    local tag, id, deliveries, refused = '', '', 0, 0
    if #raw > hard then
      refused = #raw
      local why = 'message of ' .. #raw .. ' bytes is larger than the limit of ' .. hard .. ' bytes'
      local dead = ARGV[8 + i]
      redis.call('LPUSH', dead, '{"message":' .. cjson.encode(raw) .. ',"reason":' .. cjson.encode(why) ..
                 ',"time":' .. ARGV[2] .. ',"worker":' .. cjson.encode(ARGV[7]) .. '}')
      redis.call('EXPIRE', dead, ARGV[8])
      id = string.match(string.sub(raw, -65536), '"headers"%s*:%s*{.-[{,]%s*"id"%s*:%s*"([^"\\]*)"') or ''
      raw = ''
    elseif #raw <= limit then
      local ok, env = pcall(cjson.decode, raw)
      if ok and type(env) == 'table' and type(env.headers) == 'table' and type(env.properties) == 'table' then
        local h, p = env.headers, env.properties
        if type(h.id) == 'string' and h.id ~= '' and type(p.delivery_tag) == 'string' and p.delivery_tag ~= '' then
          local exchange, routing_key = '', 'celery'
          local info = p.delivery_info
          if type(info) == 'table' then
            if type(info.exchange) == 'string' then exchange = info.exchange end
            if type(info.routing_key) == 'string' and info.routing_key ~= '' then routing_key = info.routing_key end
          end
          tag, id = p.delivery_tag, h.id
          redis.call('ZADD', index, ARGV[2], tag)
          redis.call('HSET', unacked, tag,
                     '[' .. raw .. ', ' .. cjson.encode(exchange) .. ', ' .. cjson.encode(routing_key) .. ']')
          deliveries = redis.call('INCR', ARGV[4] .. id)
          redis.call('EXPIRE', ARGV[4] .. id, ARGV[5])
        end
      end
    end
    out[#out + 1] = KEYS[i]
    out[#out + 1] = raw
    out[#out + 1] = tag
    out[#out + 1] = id
    out[#out + 1] = deliveries
    out[#out + 1] = refused
  end
end
return out
)lua";

// Decoding a message inside Redis stops every other client meanwhile: larger
// ones are taken unreserved and reserved by the handler (kombu's window).
constexpr std::size_t script_reserve_limit = 1 << 20;

}  // namespace

core::task<result<std::vector<fetched>>> fetcher::take(const std::vector<std::string>& lists, std::size_t want,
                                                       const char* wait) {
  const auto& o = w_.options;
  std::vector<std::string> args{std::to_string(lists.size() + 2)};
  args.insert(args.end(), lists.begin(), lists.end());
  args.emplace_back(celery::unacked_key);
  args.emplace_back(celery::unacked_index_key);
  args.push_back(std::to_string(want));
  args.push_back(seconds_text(celery::unix_now()));
  args.push_back(std::to_string(std::min(o.max_message_bytes, script_reserve_limit)));
  args.push_back(celery::deliveries_key(""));
  args.push_back(std::to_string(o.visibility_timeout.count() * (o.max_deliveries + 1) + 86400));
  args.push_back(std::to_string(o.max_message_bytes));
  args.push_back(w_.name);
  args.push_back(std::to_string(std::chrono::seconds(dead_letter_expiry).count()));
  for (const auto& list : lists) args.push_back(celery::dead_letter_key(celery::queue_of_key(list)));
  // By its SHA once loaded: Redis then neither receives nor hashes the text
  // again (a quarter of the call's cost). A restarted server forgets it.
  result<redis_reply> r = status::internal("not sent");
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (script_sha_.empty()) {
      auto loaded = co_await w_.pop.command(words("SCRIPT", "LOAD", take_script));
      if (!loaded.ok()) co_return loaded.error();
      if (loaded->is_error()) co_return status::internal(loaded->str);
      script_sha_ = loaded->str;
    }
    std::vector<std::string> cmd{"EVALSHA", script_sha_};
    cmd.insert(cmd.end(), args.begin(), args.end());
    if (wait != nullptr && can_wait_ && attempt == 0) {
      // Pipelined: Redis runs the take the moment the wait ends, so a message
      // that wakes an idle worker costs one round trip, as a blocking pop did.
      std::vector<std::vector<std::string>> cmds;  // (named: GCC 12 fails on a braced list in co_await)
      cmds.push_back(words("BLMOVE", lists.front(), lists.front(), "RIGHT", "RIGHT", wait));
      cmds.push_back(std::move(cmd));
      auto both = co_await w_.pop.pipeline(std::move(cmds));
      if (!both.ok()) co_return both.error();
      if ((*both)[0].is_error() && (*both)[0].str.find("unknown command") != std::string::npos) can_wait_ = false;
      r = std::move((*both)[1]);
    } else {
      r = co_await w_.pop.command(std::move(cmd));
    }
    if (!(r.ok() && r->is_error() && r->str.rfind("NOSCRIPT", 0) == 0)) break;
    script_sha_.clear();
  }
  if (!r.ok()) co_return r.error();
  if (r->is_error()) co_return status::internal(r->str);
  std::vector<fetched> out;
  if (r->type != redis_reply::kind::array) co_return out;
  auto& e = r->elements;
  for (std::size_t i = 0; i + 6 <= e.size(); i += 6) {
    fetched f;
    f.list_key = std::move(e[i].str);
    f.raw = std::move(e[i + 1].str);
    f.reserved_tag = std::move(e[i + 2].str);
    f.id = std::move(e[i + 3].str);
    f.deliveries = e[i + 4].integer;
    f.refused_bytes = static_cast<std::size_t>(std::max<long long>(0, e[i + 5].integer));
    out.push_back(std::move(f));
  }
  co_return out;
}

core::task<bool> fetcher::watch(const std::vector<std::string>& lists) {
  const auto loop = co_await core::this_executor();
  watched_.insert(lists.begin(), lists.end());
  written_timer_ = std::make_unique<asio::steady_timer>(loop);
  auto written = [this] {
    written_ = true;
    written_timer_->cancel();
  };
  watch_ = std::make_unique<redis_subscriber>(
      loop, w_.endpoint,
      [this, written](const std::string&, const std::string& key) {
        if (watched_.contains(key)) written();
      },
      written);  // after a lost connection: writes may have gone unannounced
  watch_->learn_client_id();
  std::vector<std::string> channel{"__redis__:invalidate"};
  const status s = co_await watch_->subscribe(std::move(channel));
  // A broker down: it resubscribes, and arm() says `no` meanwhile. Subscribed
  // without an id (answered first): Redis refuses CLIENT ID.
  if (!s.ok() || watch_->get_client_id() != 0) co_return true;
  w_.log("waiting for messages with BLMOVE: Redis refuses CLIENT ID");
  co_return false;
}

core::task<fetcher::armed> fetcher::arm(const std::vector<std::string>& lists) {
  const std::uint64_t id = watch_->get_client_id();
  if (id == 0) co_return armed::no;
  const std::uint64_t connects = w_.pop.get_connects();
  // Once per pop connection and subscriber; NOLOOP: the worker's own takes are not announced.
  const bool redirect = id != redirected_to_ || connects != redirected_on_;
  std::vector<std::vector<std::string>> cmds;
  if (redirect) cmds.push_back(words("CLIENT", "TRACKING", "on", "REDIRECT", std::to_string(id), "NOLOOP"));
  for (const auto& list : lists) cmds.push_back(words("LLEN", list));
  written_ = false;  // before the reads: a write announced from now on ends the wait
  auto r = co_await w_.pop.pipeline(std::move(cmds));
  if (!r.ok()) co_return armed::no;
  std::size_t at = 0;
  if (redirect) {
    if ((*r)[0].is_error()) {
      w_.log("waiting for messages with BLMOVE: Redis refuses client tracking: " + (*r)[0].str);
      co_return armed::refused;
    }
    if (w_.pop.get_connects() == connects) {
      redirected_to_ = id;
      redirected_on_ = connects;
    }
    at = 1;
  }
  for (; at < r->size(); ++at)
    if ((*r)[at].is_error() || (*r)[at].integer > 0) co_return armed::written;
  co_return armed::yes;
}

core::task<void> fetcher::until_written(std::chrono::milliseconds limit) {
  if (written_) co_return;
  written_timer_->expires_after(limit);
  asio::error_code ignored;
  co_await written_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

core::task<void> fetcher::run() {
  std::vector<std::string> lists;
  for (const auto& q : w_.options.queues)
    for (auto& k : celery::queue_keys(q)) lists.push_back(std::move(k));
  const char* const wait_timeout = w_.options.queues.size() > 1 ? "0.1" : "0.5";
  bool announced = co_await watch(lists);  // false once Redis refuses tracking
  auto backoff = 50ms;
  bool found_nothing = false;  // then the next take waits for a message first
  const auto loop = co_await core::this_executor();
  while (!w_.stopping()) {
    const std::size_t limit = w_.get_slot_limit();
    if (w_.get_busy() >= limit) {
      co_await w_.wait_for_slot(1s);
      continue;
    }
    const char* blocking_wait = nullptr;
    armed arming = armed::no;
    if (found_nothing && announced) {
      arming = co_await arm(lists);
      if (arming == armed::yes) co_await until_written(500ms);  // (missed announcements: looked at again within it)
      announced = arming != armed::refused;
    }
    if (found_nothing && (arming == armed::no || arming == armed::refused)) {
      if (!can_wait_) co_await w_.nap(100ms);  // a server without BLMOVE: polled
      blocking_wait = wait_timeout;
    }
    auto taken = co_await take(lists, limit - w_.get_busy(), blocking_wait);
    if (!taken.ok()) {
      if (taken.error().code() == status_code::internal) {  // an error reply: the broker is up
        w_.log("fetching failed: " + taken.error().message());
        co_await w_.nap(1s);
        continue;
      }
      w_.broker_failed(taken.error());
      co_await core::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms);
      continue;
    }
    backoff = 50ms;
    w_.broker_ok();
    found_nothing = taken->empty();
    if (found_nothing) continue;
    if (w_.stopping()) {  // taken after the stop: not ours to run
      co_await put_back(std::move(taken).value());
      break;
    }
    w_.last_fetch = celery::unix_now();
    for (auto& f : *taken) {
      w_.take_slot();
      core::spawn(loop, handler_.handle(std::move(f)));
    }
  }
}

core::task<void> fetcher::put_back(std::vector<fetched> taken) {
  std::vector<std::vector<std::string>> cmds;
  // Taken from the right in this order: the first goes back last.
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
    if (it->refused_bytes > 0) continue;  // dead-lettered already, in Redis: there is nothing to put back
    if (it->reserved_tag.empty()) {
      cmds.push_back(words("RPUSH", it->list_key, std::move(it->raw)));
      continue;
    }
    cmds.push_back(words("MULTI"));
    cmds.push_back(words("ZREM", celery::unacked_index_key, it->reserved_tag));
    cmds.push_back(words("HDEL", celery::unacked_key, it->reserved_tag));
    cmds.push_back(words("DECR", celery::deliveries_key(it->id)));
    cmds.push_back(words("RPUSH", it->list_key, std::move(it->raw)));
    cmds.push_back(words("EXEC"));
  }
  co_await w_.must_run(w_.cmd, std::move(cmds), true);
}

}  // namespace scalekit::taskqueue::detail
