// thumbnail::run_random_urls: the seed's producer/consumer (chapter 5) on core
// parts, with the end it lacks.
//
//   producer k: url_generator(seed + k) ──rate_limiter──> bounded_queue
//   consumer:   pop ─> claim the name ─> limit slot ─> fetch_one ─> thumbnail
//               on the executor ─> commit the slot when the file exists
//
// The end comes from whoever sees it first: the consumer whose thumbnail
// reaches the limit, or a stop request (a std::stop_callback on the
// observer's token). Either closes the queue and the rate limiter, so
// producers' waits and pushes fail at once and consumers drain what is
// queued without fetching it. A stop request also closes the limiter (its
// waiters wake), abandons downloads in flight (fetch_one watches the token)
// and cancels the executor.

#include <atomic>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "naming.h"
#include "scalekit/core/bounded_queue.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/limiter.h"
#include "scalekit/core/rate_limiter.h"
#include "scalekit/core/thread_pool.h"
#include "scalekit/net/fetch.h"
#include "tally.h"
#include "tasks.h"
#include "url_generator.h"

namespace scalekit::jobs::thumbnail {

namespace {

namespace fs = std::filesystem;

const char* limiter_name(core::limiter_kind k) { return k == core::limiter_kind::lock ? "lock" : "semaphore"; }

// What the producers and consumers share. The end() and the stop callback may
// run on any thread.
class pipeline {
 public:
  pipeline(const random_options& o, core::executor& ex, core::observer& obs, std::uint64_t seed,
           std::unique_ptr<core::rate_limiter> rate)
      : o_(o), ex_(ex), obs_(obs), seed_(seed), rate_(std::move(rate)), t_(obs), queue_(o.queue_size) {
    if (o.limit > 0) limiter_ = core::make_limiter(o.limiter, o.limit);
    fetch_.timeout = o.timeout;
    fetch_.keep_body = true;
    fetch_.max_body = std::uint64_t{64} << 20;
    fetch_.stop = obs.stop_token();
    t_.set_total(o.limit, /*made_only=*/true);  // the progress is thumbnails made toward the limit
  }

  /// Runs the producers and consumers until the end; returns the first
  /// exception one of them threw, if any (the rest were ended).
  std::exception_ptr run() {
    // Constructed after everything it closes, destroyed before it.
    const std::stop_callback on_stop(obs_.stop_token(), [this] {
      end();
      if (limiter_) limiter_->close();
    });
    core::thread_pool pool(o_.producers + o_.consumers);  // long-running loops, one thread each
    for (std::size_t k = 0; k < o_.producers; ++k) pool.detach([this, k] { guarded([&] { produce(k); }); });
    for (std::size_t k = 0; k < o_.consumers; ++k) pool.detach([this] { guarded([&] { consume(); }); });
    pool.close();  // each loop ends after end(): the limit, a stop, or an error
    std::scoped_lock lock(error_mutex_);
    return error_;
  }

  [[nodiscard]] const detail::tally& counts() const { return t_; }
  /// Why the job gave up (empty: it did not).
  [[nodiscard]] std::string gave_up() const {
    std::scoped_lock lock(error_mutex_);
    return gave_up_;
  }
  [[nodiscard]] detail::extra_counts extra() const { return {produced_.load(), duplicates_.load(), dropped_.load()}; }

 private:
  // Refuse new URLs and wake every producer; consumers drain what is queued.
  void end() {
    if (ending_.exchange(true)) return;
    queue_.close();
    if (rate_) rate_->close();
  }

  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      {
        std::scoped_lock lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      end();
      if (limiter_) limiter_->close();
    }
  }

  void produce(std::size_t k) {
    detail::url_generator gen(o_.base, seed_ + k);
    while (!ending_.load()) {
      if (rate_ && !rate_->acquire()) break;
      if (!queue_.push(gen.next())) break;
      ++produced_;
    }
  }

  void consume() {
    while (auto url = queue_.pop()) {
      if (obs_.stop_requested() || (limiter_ && limiter_->is_done())) {
        ++dropped_;
        continue;
      }
      consume_one(*url);
      if (limiter_ && limiter_->is_done()) end();
    }
  }

  void consume_one(const std::string& url) {
    const std::string name = detail::url_thumb_name(url);
    {
      std::scoped_lock lock(names_mutex_);
      if (!names_.insert(name).second) {
        ++duplicates_;  // a name counts once: made, or in flight
        return;
      }
    }
    const auto release_name = [&] {
      std::scoped_lock lock(names_mutex_);
      names_.erase(name);
    };
    // Waits while the remaining places are all in flight; nullopt once the
    // limit is reached (or the limiter closed by a stop).
    std::optional<core::limit_slot> slot = limiter_ ? limiter_->acquire() : std::nullopt;
    if (limiter_ && !slot) {
      release_name();
      ++dropped_;
      end();
      return;
    }
    auto r = net::fetch_one(url, fetch_);
    if (obs_.stop_requested()) {  // abandoned, whether or not it arrived: no new work after a stop
      release_name();
      ++dropped_;
      return;
    }
    if (!r.error.ok() || r.status >= 400) {
      release_name();  // the slot, if any, is released as `slot` goes
      const std::string why = r.error.ok() ? "HTTP " + std::to_string(r.status) : r.error.message();
      t_.fail(url, why);
      failed_one(url, why);
      return;
    }
    const std::string out = (fs::path(o_.out_dir) / name).string();
    std::vector<core::task_call> calls;
    calls.push_back({detail::buffer_task, detail::encode_buffer_call(r.body, out, o_.image)});
    const std::vector<result<core::bytes>> res = ex_.run_calls(std::move(calls));
    if (!res[0].ok() && res[0].error().code() == status_code::cancelled && obs_.stop_requested()) {
      // The executor was cancelled under the call: its worker is gone. A file
      // it may have written is removed, so that every file is counted.
      std::error_code ec;
      fs::remove(out, ec);
      release_name();
      ++dropped_;
      return;
    }
    const report rep = detail::report_of(res[0]);
    if (rep.what == outcome::made) {
      if (slot) slot->commit();  // counts toward the limit only once the file exists
      t_.add(url, rep, out);
      consecutive_failures_ = 0;
      return;
    }
    release_name();
    t_.add(url, rep, "");
    failed_one(url, rep.what == outcome::skipped ? "skipped, " + rep.reason : rep.reason);
  }

  // Only thumbnails made count toward the limit: when every download fails
  // (a wrong BASE, a server down) the job would never end. After
  // max_consecutive_failures in a row without a thumbnail it gives up.
  void failed_one(const std::string& url, const std::string& why) {
    const std::uint64_t n = ++consecutive_failures_;
    if (o_.max_consecutive_failures == 0 || n < o_.max_consecutive_failures) return;
    {
      std::scoped_lock lock(error_mutex_);
      if (!gave_up_.empty()) return;
      gave_up_ = "gave up after " + std::to_string(n) + " URLs in a row failed (the last: " + url + ": " + why +
                 "); is " + o_.base + " serving images? (--give-up-after)";
    }
    end();
    if (limiter_) limiter_->close();
  }

  const random_options& o_;
  core::executor& ex_;
  core::observer& obs_;
  const std::uint64_t seed_;
  std::unique_ptr<core::rate_limiter> rate_;
  std::unique_ptr<core::count_limiter> limiter_;
  net::fetch_options fetch_;
  detail::tally t_;
  core::bounded_queue<std::string> queue_;
  std::atomic<bool> ending_{false};
  std::atomic<std::uint64_t> produced_{0}, duplicates_{0}, dropped_{0};
  std::atomic<std::uint64_t> consecutive_failures_{0};  // since the last thumbnail made
  std::mutex names_mutex_;
  std::set<std::string> names_;  // guarded by names_mutex_: thumbnail names made or in flight
  mutable std::mutex error_mutex_;
  std::exception_ptr error_;  // guarded by error_mutex_
  std::string gave_up_;       // guarded by error_mutex_
};

}  // namespace

result<core::report> run_random_urls(const random_options& o, core::executor& ex, core::observer& obs) {
  if (status s = detail::validate(o.image, o.out_dir); !s.ok()) return s;
  if (o.base.rfind("http://", 0) != 0 && o.base.rfind("https://", 0) != 0)
    return status::invalid_argument("--random-urls: '" + o.base + "' is not an http:// or https:// URL");
  if (o.producers < 1 || o.consumers < 1)
    return status::invalid_argument("--producers and --consumers must be at least 1");
  if (o.queue_size < 1) return status::invalid_argument("--queue-size must be at least 1");
  std::unique_ptr<core::rate_limiter> rate;
  if (!o.rate.empty()) {
    auto parsed = core::rate_limiter::parse(o.rate);
    if (!parsed.ok()) return status::invalid_argument("--rate: " + parsed.error().message());
    rate = std::make_unique<core::rate_limiter>(parsed.value());
  }
  const std::uint64_t seed = o.seed ? *o.seed : std::random_device{}();
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);  // a failure shows in each item's "cannot write"
  const core::cancel_on_stop stop_guard(ex, obs);

  pipeline p(o, ex, obs, seed, std::move(rate));
  const auto t0 = std::chrono::steady_clock::now();
  if (const std::exception_ptr e = p.run()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return status::internal(std::string("thumbnail: ") + x.what());
    } catch (...) {
      return status::internal("thumbnail: unknown error");
    }
  }
  if (const std::string why = p.gave_up(); !why.empty() && !obs.stop_requested()) {
    const auto made = p.counts().made();
    return status::io_error(why + "; " + std::to_string(made) + " thumbnails made" +
                            (o.limit > 0 ? " of " + std::to_string(o.limit) : std::string()));
  }
  const bool stopped = obs.stop_requested();
  core::report r = p.counts().job_report("random-urls", std::chrono::steady_clock::now() - t0, p.extra());
  r.add("producers", static_cast<std::uint64_t>(o.producers), "{} producers");
  r.add("consumers", static_cast<std::uint64_t>(o.consumers), "{} consumers");
  r.add("queue_size", static_cast<std::uint64_t>(o.queue_size), "queue {}");
  r.add("limit", o.limit, o.limit > 0 ? std::string("limit {} (") + limiter_name(o.limiter) + ")" : "");
  if (o.limit > 0) r.add("limiter", std::string(limiter_name(o.limiter)), "");
  if (!o.rate.empty()) r.add("rate", o.rate, "rate {}");
  r.add("seed", seed, "");
  r.add("stopped", stopped, stopped ? "stopped" : "");
  detail::add_image_executor_fields(r, ex);
  return r;
}

}  // namespace scalekit::jobs::thumbnail
