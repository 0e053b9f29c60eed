#pragma once
// A service of the job shape (core/job.h) run on a thread of its own for a
// test: its observer collects what it is told and carries the stop token of a
// std::stop_source the test owns. wait_for_message() waits for one of its
// messages, port() reads its "listening on HOST:PORT" message, stop()
// requests the stop and returns the service's report. The destructor stops
// it if the test did not.
//
//   scalekit::testing::service_thread svc([&](core::observer& obs) { return serve(o, obs); });
//   ASSERT_NE(svc.port(), 0) << svc.messages();
//   ... talk to 127.0.0.1:svc.port() ...
//   auto report = svc.stop();

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>

#include "scalekit/core/job.h"
#include "scalekit/core/status.h"

namespace scalekit::testing {

class service_thread {
 public:
  using entry = std::function<result<core::report>(core::observer&)>;

  explicit service_thread(entry e) : obs_(source_.get_token()) {
    thread_ = std::thread([this, e = std::move(e)] {
      auto r = e(obs_);
      std::scoped_lock lock(mutex_);
      result_.emplace(std::move(r));
    });
  }
  ~service_thread() {
    if (thread_.joinable()) {
      source_.request_stop();
      thread_.join();
    }
  }
  service_thread(const service_thread&) = delete;
  service_thread& operator=(const service_thread&) = delete;

  [[nodiscard]] core::collecting_observer& observer() { return obs_; }

  /// Every message so far, one per line (for failure output).
  [[nodiscard]] std::string messages() const {
    std::string all;
    for (const auto& m : obs_.messages()) all += m + "\n";
    return all;
  }

  /// Wait until a message contains `text` (true), or the service has ended
  /// or the time has run out (false).
  bool wait_for_message(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (messages().find(text) != std::string::npos) return true;
      if (ended() || std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  /// The port of the first "listening on HOST:PORT" message; 0 when none came.
  std::uint16_t port(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const std::string marker = "listening on ";
    if (!wait_for_message(marker, timeout)) return 0;
    for (const auto& m : obs_.messages()) {
      const auto at = m.find(marker);
      if (at == std::string::npos) continue;
      const auto colon = m.find(':', at + marker.size());
      if (colon == std::string::npos) return 0;
      return static_cast<std::uint16_t>(std::stoul(m.substr(colon + 1)));
    }
    return 0;
  }

  /// Request the stop, wait for the service to return, and return its result.
  result<core::report> stop() {
    source_.request_stop();
    return wait();
  }
  /// Wait for the service to return by itself, and return its result.
  result<core::report> wait() {
    if (thread_.joinable()) thread_.join();
    std::scoped_lock lock(mutex_);
    return std::move(*result_);
  }
  [[nodiscard]] bool ended() const {
    std::scoped_lock lock(mutex_);
    return result_.has_value();
  }

 private:
  std::stop_source source_;
  core::collecting_observer obs_;
  mutable std::mutex mutex_;
  std::optional<result<core::report>> result_;  // guarded by mutex_
  std::thread thread_;
};

/// A report field's value, for tests: the field's value as T (which must be
/// its type); a failed test and T{} when the report has no such field.
template <typename T>
T field(const core::report& r, std::string_view key) {
  const core::report_value* v = r.find(key);
  if (v == nullptr || !std::holds_alternative<T>(*v)) {
    ADD_FAILURE() << "the report has no field '" << key << "' of the expected type";
    return T{};
  }
  return std::get<T>(*v);
}

}  // namespace scalekit::testing
