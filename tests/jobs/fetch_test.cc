#include "scalekit/jobs/fetch/fetch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "scalekit/core/async.h"
#include "scalekit/core/job.h"
#include "scalekit/net/http_server.h"

// The fetch job through its entry, against net's HTTP server on a free port
// in this process. It has no executor to vary: one event loop does the
// transfers, so the cases vary what the URLs answer instead.

using namespace scalekit;
namespace fetch = scalekit::jobs::fetch;

namespace {

// GET /bytes/N: N bytes; /status/N: that status; /hang: no answer for a minute.
core::task<net::http_response> answer(net::http_request req) {
  net::http_response resp;
  const std::string& t = req.target;
  if (t.rfind("/bytes/", 0) == 0) {
    resp.body.assign(std::stoul(t.substr(7)), 'x');
  } else if (t.rfind("/status/", 0) == 0) {
    resp.status = std::stoi(t.substr(8));
    resp.body = "status\n";
  } else if (t == "/hang") {
    co_await core::sleep_for(std::chrono::seconds(60));
  } else {
    resp.status = 404;
    resp.body = "no\n";
  }
  co_return resp;
}

// net::serve_http on 127.0.0.1, any free port, in a thread of its own.
class local_server {
 public:
  local_server() {
    thread_ = std::jthread([this] {
      net::http_server_options o;
      o.port = 0;
      o.stop = stop_.get_token();
      (void)net::serve_http(o, answer, [this](const std::string& line) {
        const std::string prefix = "listening on 127.0.0.1:";
        if (line.rfind(prefix, 0) != 0) return;
        std::scoped_lock lock(mutex_);
        port_ = line.substr(prefix.size());
        ready_.notify_all();
      });
    });
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, std::chrono::seconds(10), [this] { return !port_.empty(); });
  }
  ~local_server() { stop_.request_stop(); }
  local_server(const local_server&) = delete;
  local_server& operator=(const local_server&) = delete;

  [[nodiscard]] std::string url(const std::string& path) {
    std::scoped_lock lock(mutex_);
    return "http://127.0.0.1:" + port_ + path;
  }

 private:
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::string port_;     // guarded by mutex_
  std::jthread thread_;  // last: joined before the rest goes
};

std::int64_t count_of(const core::report& r, std::string_view key) {
  const auto* v = r.find(key);
  const auto* u = v ? std::get_if<std::uint64_t>(v) : nullptr;
  return u ? static_cast<std::int64_t>(*u) : -1;
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST(FetchJob, OneLinePerResponseAndAMessagePerUrlWithout) {
  local_server http;
  fetch::options o;
  o.urls = {http.url("/bytes/12345"), http.url("/status/404"), "http://127.0.0.1:1/", "ftp://x/y"};
  o.timeout = std::chrono::seconds(10);
  core::collecting_observer obs;
  auto r = fetch::run(o, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const std::string out = obs.text();
  EXPECT_NE(out.find("Response for URL " + http.url("/bytes/12345") + " => 200 12345\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Response for URL " + http.url("/status/404") + " => 404 7\n"), std::string::npos) << out;
  EXPECT_EQ(count_lines(out), 2u) << out;
  auto messages = obs.messages();
  std::sort(messages.begin(), messages.end());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].find("ftp://x/y: "), 0u) << messages[0];
  EXPECT_EQ(messages[1].find("http://127.0.0.1:1/: cannot connect"), 0u) << messages[1];

  EXPECT_EQ(count_of(*r, "responses"), 2);
  EXPECT_EQ(count_of(*r, "failed"), 2);
  EXPECT_EQ(count_of(*r, "http_errors"), 1);
  EXPECT_EQ(count_of(*r, "bytes"), 12345 + 7);
  EXPECT_EQ(r->failures, 2u);
  EXPECT_EQ(obs.last_progress(), std::make_pair(std::uint64_t{4}, std::uint64_t{4}));
  EXPECT_NE(r->summary_line().find("2 responses (1 with HTTP status >= 400), 2 failed, 12352 bytes"), std::string::npos)
      << r->summary_line();
  // One record per URL: a response's status and length, or the error.
  const auto* results = std::get_if<std::vector<core::report_record>>(r->find("results"));
  ASSERT_NE(results, nullptr);
  ASSERT_EQ(results->size(), 4u);
  const std::string json = r->to_json();
  EXPECT_NE(json.find("{\"url\":\"" + http.url("/bytes/12345") + "\",\"elapsed_s\":"), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\":200,\"length\":12345,\"final_url\":"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"url\":\"http://127.0.0.1:1/\",\"elapsed_s\":"), std::string::npos) << json;
  EXPECT_NE(json.find("\"error\":\"cannot connect"), std::string::npos) << json;

  // With fail_on_http_error the 404 is a failure too.
  o.urls = {http.url("/status/404"), http.url("/bytes/1")};
  o.fail_on_http_error = true;
  core::collecting_observer strict;
  auto s = fetch::run(o, strict);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->failures, 1u);
  EXPECT_EQ(count_lines(strict.text()), 2u);
}

// A URL that hangs past its timeout is a message; the others go on.
TEST(FetchJob, TimeoutIsPerRequestAndTheOthersGoOn) {
  local_server http;
  fetch::options o;
  o.urls = {http.url("/hang"), http.url("/bytes/3")};
  o.timeout = std::chrono::milliseconds(500);
  core::collecting_observer obs;
  auto r = fetch::run(o, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(obs.text(), "Response for URL " + http.url("/bytes/3") + " => 200 3\n");
  ASSERT_EQ(obs.messages().size(), 1u);
  EXPECT_EQ(obs.messages()[0].find(http.url("/hang") + ": timed out after 0.5"), 0u) << obs.messages()[0];
  EXPECT_EQ(r->failures, 1u);
}

// A stop ends the job at once, hanging transfers and all: cancelled, and no
// line or message for the URLs it abandoned.
TEST(FetchJob, AStopEndsItPromptly) {
  local_server http;
  fetch::options o;
  o.urls = {http.url("/bytes/5"), http.url("/hang"), http.url("/hang"), http.url("/hang")};
  std::stop_source stop;
  core::collecting_observer obs(stop.get_token());
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = fetch::run(o, obs);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), status_code::cancelled) << r.error().to_string();
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(obs.text(), "Response for URL " + http.url("/bytes/5") + " => 200 5\n");
  EXPECT_TRUE(obs.messages().empty());

  // Requested before it starts: nothing is fetched.
  core::collecting_observer already(stop.get_token());
  auto again = fetch::run(o, already);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), status_code::cancelled);
  EXPECT_EQ(already.text(), "");
}

TEST(FetchJob, BadOptionsAreInvalidArguments) {
  core::collecting_observer obs;
  fetch::options o;
  o.urls = {"http://127.0.0.1:1/"};
  o.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(fetch::run(o, obs).error().code(), status_code::invalid_argument);
  o.timeout = std::chrono::seconds(1);
  o.max_parallel = 0;
  EXPECT_EQ(fetch::run(o, obs).error().code(), status_code::invalid_argument);
  EXPECT_TRUE(obs.messages().empty());
}
