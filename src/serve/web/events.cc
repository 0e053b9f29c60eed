#include "web/events.h"

#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "scalekit/core/async.h"
#include "scalekit/net/http_server.h"
#include "scalekit/serve/web/sse.h"

namespace scalekit::serve::web {

namespace {

constexpr std::chrono::milliseconds reconnect_after{300};

class fleet_stream final : public net::http_body_source {
 public:
  fleet_stream(const scoreboard& board, const fleet_history& history, broker_watch* broker, std::stop_token stop,
               std::chrono::milliseconds period)
      : board_(board), history_(history), broker_(broker), stop_(std::move(stop)), period_(period) {}

  core::task<std::optional<std::string>> next() override {
    if (started_) {
      co_await core::sleep_for(period_);
    }
    if (stop_.stop_requested()) co_return std::nullopt;
    std::string out;
    if (!started_) {
      started_ = true;
      out = sse_retry(reconnect_after);
      std::string all = "[";
      for (const auto& s : history_.samples()) all += (all.size() > 1 ? ", " : "") + sample_json(s);
      out += sse_message("history", all + "]");
    }
    std::string snapshot = fleet_json(board_, monotonic_ns(), ::getpid());
    snapshot.pop_back();  // the closing brace: the newest sample and the broker's reading go in too
    if (!history_.samples().empty()) snapshot += ", \"sample\": " + sample_json(history_.samples().back());
    if (broker_ != nullptr) snapshot += ", \"broker\": " + broker_->get_json();
    snapshot += "}";
    out += sse_message("fleet", snapshot);
    co_return out;
  }

 private:
  const scoreboard& board_;
  const fleet_history& history_;
  broker_watch* broker_;
  std::stop_token stop_;
  std::chrono::milliseconds period_;
  bool started_ = false;
};

}  // namespace

net::http_response fleet_events(const scoreboard& board, const fleet_history& history, broker_watch* broker,
                                std::stop_token stop, std::chrono::milliseconds period) {
  net::http_response r;
  r.content_type = "text/event-stream";
  r.headers.push_back({"Cache-Control", "no-store"});
  r.stream = std::make_shared<fleet_stream>(board, history, broker, std::move(stop), period);
  return r;
}

}  // namespace scalekit::serve::web
