#include "shared_cache.h"

#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <charconv>
#include <fmt/format.h>
#include <utility>

namespace scalekit::serve {

// ---- the entry's format ----------------------------------------------------
//
//   "scalekit-serve-cache 1\n" <content type> "\n" <field count> "\n"
//   (<name> ": " <value> "\n") * count   <body to the end>
//
// Header fields hold no CR or LF (net::valid_header_field), so lines frame them.

namespace {

constexpr std::string_view magic = "scalekit-serve-cache 1\n";

bool is_cache_marker(const net::http_header& h) { return h.name == "X-Cache"; }

// The next line of `in` (without its LF), consumed; nullopt when none is left.
std::optional<std::string_view> take_line(std::string_view& in) {
  const auto lf = in.find('\n');
  if (lf == std::string_view::npos) return std::nullopt;
  const std::string_view line = in.substr(0, lf);
  in.remove_prefix(lf + 1);
  return line;
}

}  // namespace

std::string encode_cached(const net::http_response& r) {
  std::size_t fields = 0;
  for (const auto& h : r.headers) fields += !is_cache_marker(h);
  std::string out = fmt::format("{}{}\n{}\n", magic, r.content_type, fields);
  for (const auto& h : r.headers)
    if (!is_cache_marker(h)) out += fmt::format("{}: {}\n", h.name, h.value);
  out += r.body;
  return out;
}

std::optional<net::http_response> decode_cached(std::string_view in) {
  if (in.substr(0, magic.size()) != magic) return std::nullopt;
  in.remove_prefix(magic.size());
  net::http_response r;
  const auto type = take_line(in);
  const auto count_line = take_line(in);
  std::size_t count = 0;
  if (!type || !count_line) return std::nullopt;
  const auto [end, ec] = std::from_chars(count_line->data(), count_line->data() + count_line->size(), count);
  if (ec != std::errc() || end != count_line->data() + count_line->size() || count > 64) return std::nullopt;
  r.content_type = std::string(*type);
  for (std::size_t i = 0; i < count; ++i) {
    const auto line = take_line(in);
    const auto colon = line ? line->find(": ") : std::string_view::npos;
    if (colon == std::string_view::npos) return std::nullopt;
    net::http_header h{std::string(line->substr(0, colon)), std::string(line->substr(colon + 2))};
    if (!net::valid_header_field(h)) return std::nullopt;
    r.headers.push_back(std::move(h));
  }
  r.body = std::string(in);
  return r;
}

// ---- the client ------------------------------------------------------------

// A command raced with a deadline. The client's commands cannot be cancelled,
// so the loser is left to finish on its own: the timer, or the command, which
// holds this state until its reply comes or its connection is dropped (the
// client then completes it with an error; send() no longer needs the client).
struct shared_cache::race {
  explicit race(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  std::optional<result<taskqueue::redis_reply>> reply;
};

shared_cache::shared_cache(asio::any_io_executor loop, settings s, std::function<void(const std::string&)> log)
    : loop_(loop), s_(std::move(s)), log_(std::move(log)) {
  connect();
}

void shared_cache::connect() {
  db_ = std::make_unique<taskqueue::redis_client>(loop_, s_.where);  // connects at its first command
  // Half the lookup's time: a connection is made or refused before any lookup waiting on it
  // times out, so a client is only ever dropped with its connection made (a client dropped
  // while connecting never completes its waiters).
  db_->set_connect_timeout(s_.lookup_timeout / 2);
}

core::task<void> shared_cache::send(std::shared_ptr<race> r, taskqueue::redis_client& db,
                                    std::vector<std::string> cmd) {
  auto reply = co_await db.command(std::move(cmd));
  r->reply.emplace(std::move(reply));
  r->timer.cancel();
}

core::task<shared_cache::lookup> shared_cache::get(std::string key) {
  if (!usable()) co_return lookup{};
  auto r = std::make_shared<race>(loop_);
  r->timer.expires_after(s_.lookup_timeout);
  asio::co_spawn(loop_, send(r, *db_, taskqueue::words("GET", redis_key(key))), asio::detached);
  asio::error_code ec;
  co_await r->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!r->reply) {
    unreachable(fmt::format("no answer within {} ms", s_.lookup_timeout.count()));
    connect();
    co_return lookup{};
  }
  if (!r->reply->ok()) {
    unreachable(r->reply->error().message());
    co_return lookup{};
  }
  const taskqueue::redis_reply& got = r->reply->value();
  if (got.is_error()) {
    unreachable(got.str);
    co_return lookup{};
  }
  reachable();
  if (got.type != taskqueue::redis_reply::kind::string) co_return lookup{outcome::miss, {}};
  auto decoded = decode_cached(got.str);
  if (!decoded) co_return lookup{outcome::miss, {}};  // not ours: computed again, and overwritten
  co_return lookup{outcome::hit, std::move(*decoded)};
}

void shared_cache::put(const std::string& key, const net::http_response& r) {
  if (!usable() || stores_ >= s_.max_stores || r.body.size() > s_.max_entry_bytes) return;
  if (refusing_ && std::chrono::steady_clock::now() < refusing_until_) return;
  ++stores_;
  asio::co_spawn(loop_,
                 store(this,
                       taskqueue::words("SET", redis_key(key), encode_cached(r), "EX", std::to_string(s_.ttl.count()))),
                 asio::detached);
}

// Runs on the loop while the worker serves; the worker destroys this cache only
// once the loop has stopped (http_server_options::on_stop), so never resumed after.
core::task<void> shared_cache::store(shared_cache* self, std::vector<std::string> cmd) {
  auto reply = co_await self->db_->command(std::move(cmd));
  --self->stores_;
  if (!reply.ok()) {
    self->unreachable(reply.error().message());
  } else if (reply->is_error()) {
    self->refused(reply->str);  // Redis answers (lookups work): not unreachable
  } else {
    self->stored();
  }
}

bool shared_cache::usable() const { return !down_ || std::chrono::steady_clock::now() >= down_until_; }

void shared_cache::unreachable(const std::string& why) {
  down_until_ = std::chrono::steady_clock::now() + s_.retry;
  if (down_) return;
  down_ = true;
  log_(fmt::format("cache {}: unavailable ({}); answers are computed without it, trying again every {} ms",
                   s_.where.to_string(), why, s_.retry.count()));
}

void shared_cache::refused(const std::string& why) {
  refusing_until_ = std::chrono::steady_clock::now() + s_.retry;
  if (refusing_) return;
  refusing_ = true;
  log_(fmt::format("cache {}: refuses to store ({}); answers are not stored, trying again every {} ms",
                   s_.where.to_string(), why, s_.retry.count()));
}

void shared_cache::stored() {
  // A store sent before the refusal may still succeed: only one sent after the wait says so.
  if (!refusing_ || std::chrono::steady_clock::now() < refusing_until_) return;
  refusing_ = false;
  log_(fmt::format("cache {}: stores again", s_.where.to_string()));
}

void shared_cache::reachable() {
  if (!down_) return;
  down_ = false;
  log_(fmt::format("cache {}: available again", s_.where.to_string()));
}

}  // namespace scalekit::serve
