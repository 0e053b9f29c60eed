#include "web/broker_watch.h"

#include <nlohmann/json.hpp>

#include "scalekit/taskqueue/redis.h"

namespace scalekit::serve::web {

namespace {

using namespace std::chrono_literals;
constexpr auto read_every = 1s;
constexpr auto keep_reading_for = 5s;  // after a dashboard last asked

}  // namespace

void task_rate::add(std::chrono::steady_clock::time_point at, const taskqueue::status_report& s) {
  reading r{at, {}};
  for (const auto& w : s.workers) r.processed[w.name] = w.processed;
  readings_.push_back(std::move(r));
  while (readings_.size() > 2 && readings_.front().at < at - window_) readings_.pop_front();
}

double task_rate::get_per_second() const {
  if (readings_.size() < 2) return 0;
  const reading &first = readings_.front(), &last = readings_.back();
  const double seconds = std::chrono::duration<double>(last.at - first.at).count();
  if (seconds <= 0) return 0;
  std::uint64_t done = 0;
  for (const auto& [name, n] : last.processed) {
    const auto before = first.processed.find(name);
    if (before != first.processed.end() && n > before->second) done += n - before->second;
  }
  return static_cast<double>(done) / seconds;
}

std::string broker_json(const std::string& broker, const std::string& queue,
                        const result<taskqueue::status_report>& reading, double tasks_per_s) {
  auto ep = taskqueue::redis_endpoint::parse(broker);
  nlohmann::json j{{"broker", ep.ok() ? ep->to_string() : std::string("?")}, {"queue", queue}};
  if (!reading.ok()) {
    j["ok"] = false;
    j["error"] = reading.error().message();
    return j.dump();
  }
  const taskqueue::status_report& s = reading.value();
  j["ok"] = true;
  j["verdict"] = s.verdict;
  j["waiting"] = s.waiting;
  j["unacked"] = s.unacked;
  j["dead_letters"] = s.dead_letters;
  j["oldest_waiting_age_s"] = s.oldest_waiting_age_s;
  j["tasks_per_s"] = tasks_per_s;
  j["workers"] = nlohmann::json::array();
  for (const auto& w : s.workers)
    j["workers"].push_back({{"name", w.name},
                            {"pool", w.pool},
                            {"concurrency", w.concurrency},
                            {"active", w.active},
                            {"processed", w.processed},
                            {"failed", w.failed},
                            {"last_fetch_age_s", w.last_fetch_age_s}});
  return j.dump();
}

broker_watch::broker_watch(std::string broker, std::string queue)
    : broker_(std::move(broker)),
      queue_(std::move(queue)),
      json_(nlohmann::json{{"ok", false}, {"error", "reading…"}}.dump()),
      thread_([this](const std::stop_token& stop) { poll(stop); }) {}

broker_watch::~broker_watch() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

std::string broker_watch::get_json() {
  std::scoped_lock lock(mutex_);
  const bool idle = wanted_until_ < std::chrono::steady_clock::now();
  wanted_until_ = std::chrono::steady_clock::now() + keep_reading_for;
  if (idle) wanted_.notify_all();
  return json_;
}

void broker_watch::poll(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      // Wait while no dashboard wants readings.
      if (!wanted_.wait(lock, stop, [&] { return std::chrono::steady_clock::now() < wanted_until_; })) return;
    }
    const auto at = std::chrono::steady_clock::now();
    auto reading = taskqueue::query_status(broker_, {queue_});
    if (reading.ok()) rate_.add(at, reading.value());
    std::string json = broker_json(broker_, queue_, reading, rate_.get_per_second());
    std::unique_lock lock(mutex_);
    json_ = std::move(json);
    wanted_.wait_until(lock, stop, at + read_every, [] { return false; });
  }
}

}  // namespace scalekit::serve::web
