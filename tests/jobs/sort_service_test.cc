#include "scalekit/jobs/sort_service/sort_service.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loopback.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/process_pool.h"
#include "service_thread.h"

using namespace scalekit;
namespace ss = scalekit::jobs::sort_service;
using core::executor_kind;
using scalekit::testing::field;
using scalekit::testing::service_thread;
using namespace std::chrono_literals;

namespace {

ss::serve_options any_port() {
  ss::serve_options o;
  o.port = 0;
  return o;
}

ss::call_options to(std::uint16_t port, std::string body) {
  ss::call_options o;
  o.port = port;
  o.body = std::move(body);
  o.timeout = 10s;
  return o;
}

}  // namespace

class SortServiceOnEveryExecutor : public ::testing::TestWithParam<executor_kind> {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    if (GetParam() == executor_kind::openmp) GTEST_SKIP() << "OpenMP under TSan gives false positives";
#endif
  }
};

// The service through its entry, its client through its own: sorted replies,
// error replies, the counts, and a stop that ends it.
TEST_P(SortServiceOnEveryExecutor, SortsForItsClientUntilStopped) {
  auto ex = core::make_executor(GetParam(), {.jobs = 2});
  const auto o = any_port();
  service_thread svc([&](core::observer& obs) { return ss::serve(o, *ex, obs); });
  const std::uint16_t port = svc.port();
  ASSERT_NE(port, 0) << svc.messages();

  core::collecting_observer sorted;
  auto reply = ss::call(to(port, "[3, -1, 2, 9223372036854775807, -9223372036854775808]"), sorted);
  ASSERT_TRUE(reply.ok()) << reply.error().to_string();
  EXPECT_EQ(sorted.text(), "[-9223372036854775808, -1, 2, 3, 9223372036854775807]\n");
  EXPECT_EQ(reply->failures, 0u);
  EXPECT_TRUE(sorted.messages().empty());

  core::collecting_observer refused;
  auto error = ss::call(to(port, "[1, 2.5]"), refused);
  ASSERT_TRUE(error.ok()) << error.error().to_string();
  EXPECT_EQ(refused.text(), "{\"error\": \"element 1 is not an integer\"}\n");
  EXPECT_EQ(error->failures, 1u);  // an error reply fails the call
  ASSERT_EQ(refused.messages().size(), 1u);
  EXPECT_NE(refused.messages()[0].find("element 1 is not an integer"), std::string::npos);
  EXPECT_EQ(field<std::string>(*error, "reply"), "{\"error\": \"element 1 is not an integer\"}");

  // The body may come from a stream (the command line: stdin).
  std::istringstream in("[5, 4]");
  ss::call_options from_stream = to(port, "");
  from_stream.input = &in;
  core::collecting_observer streamed;
  ASSERT_TRUE(ss::call(from_stream, streamed).ok());
  EXPECT_EQ(streamed.text(), "[4, 5]\n");

  auto r = svc.stop();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->job, "sort-service serve");
  EXPECT_EQ(field<std::uint64_t>(*r, "connections"), 3u);
  EXPECT_EQ(field<std::uint64_t>(*r, "sorted"), 2u);
  EXPECT_EQ(field<std::uint64_t>(*r, "errors"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "dropped"), 0u);
  EXPECT_EQ(field<std::string>(*r, "executor"), std::string(core::to_string(GetParam())));
  EXPECT_EQ(field<std::uint64_t>(*r, "tasks"), 3u);  // every request was parsed on the executor
  EXPECT_EQ(r->failures, 0u);                        // bad requests are the clients' failures
  EXPECT_NE(r->summary_line().find("3 connections, 2 sorted, 1 error replies, 0 dropped"), std::string::npos)
      << r->summary_line();
}

// Refused unread, and a connection that says nothing is closed after the idle
// timeout: both counted, the service goes on.
TEST_P(SortServiceOnEveryExecutor, OversizedAndSilentClients) {
  auto ex = core::make_executor(GetParam(), {.jobs = 2});
  auto o = any_port();
  o.max_bytes = 10;
  o.idle_timeout = 100ms;
  service_thread svc([&](core::observer& obs) { return ss::serve(o, *ex, obs); });
  const std::uint16_t port = svc.port();
  ASSERT_NE(port, 0) << svc.messages();
  core::collecting_observer big;
  ASSERT_TRUE(ss::call(to(port, "[1, 2, 3, 4, 5, 6]"), big).ok());
  EXPECT_EQ(big.text(), "{\"error\": \"request of 18 bytes exceeds the limit of 10\"}\n");
  {
    const int fd = scalekit::testing::connect_loopback(std::to_string(port));
    ASSERT_GE(fd, 0);
    char c;
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // closed unanswered
    ::close(fd);
  }
  auto r = svc.stop();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(field<std::uint64_t>(*r, "connections"), 2u);
  EXPECT_EQ(field<std::uint64_t>(*r, "errors"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "dropped"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "tasks"), 0u);  // neither reached the executor
}

// A stop while clients keep sending: the service returns promptly, and every
// reply a client got is whole: sorted, or an error object for the requests
// cut off by the stop (the connections it was still reading from or writing
// to are closed, and those calls fail). Under ASan this is also the check that
// no executor completion reaches a destroyed loop.
TEST_P(SortServiceOnEveryExecutor, AStopUnderLoadGivesWholeRepliesOrNone) {
  auto ex = core::make_executor(GetParam(), {.jobs = 2});
  const auto o = any_port();
  service_thread svc([&](core::observer& obs) { return ss::serve(o, *ex, obs); });
  const std::uint16_t port = svc.port();
  ASSERT_NE(port, 0) << svc.messages();
  std::string body = "[";
  for (int i = 20000; i > 0; --i) body += std::to_string(i * 7919 % 10007) + (i > 1 ? ", " : "]");
  std::atomic<bool> done{false};
  std::atomic<int> sorted{0}, refused{0}, bad{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!done) {
        core::collecting_observer obs;
        auto r = ss::call(to(port, body), obs);
        if (!r.ok()) continue;  // cut off by the stop, or the server has gone
        const std::string text = obs.text();
        if (text.rfind("{\"error\": ", 0) == 0) {
          ++refused;
        } else if (text.size() == body.size() + 1 && text.rfind("[0, 1, 1, 2, 2, ", 0) == 0) {
          ++sorted;
        } else {
          ++bad;
        }
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = svc.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  done = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GT(sorted.load(), 0);
  EXPECT_EQ(bad.load(), 0);
  const auto n = [&](const char* key) { return field<std::uint64_t>(*r, key); };
  EXPECT_GE(n("connections"), n("sorted") + n("errors") + n("dropped"));
  EXPECT_GE(n("sorted"), static_cast<std::uint64_t>(sorted.load()));
  EXPECT_GE(n("errors"), static_cast<std::uint64_t>(refused.load()));
}

INSTANTIATE_TEST_SUITE_P(Kinds, SortServiceOnEveryExecutor,
                         ::testing::Values(executor_kind::serial, executor_kind::threads, executor_kind::processes,
                                           executor_kind::openmp),
                         [](const auto& p) { return std::string(core::to_string(p.param)); });

TEST(SortService, ATakenPortOrABadHostIsAnError) {
  const auto taken = scalekit::testing::listen_loopback();
  auto ex = core::make_inline_executor();
  core::collecting_observer obs;
  auto o = any_port();
  o.port = taken.port();
  auto busy = ss::serve(o, *ex, obs);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code(), status_code::io_error);
  EXPECT_NE(busy.error().message().find("cannot listen on 127.0.0.1:" + std::to_string(taken.port())),
            std::string::npos);
  o = any_port();
  o.host = "nowhere";
  auto bad = ss::serve(o, *ex, obs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), status_code::invalid_argument);
}

TEST(SortServiceCall, FailsWhenNothingListens) {
  const std::uint16_t port = scalekit::testing::free_port();
  core::collecting_observer obs;
  auto r = ss::call(to(port, "[1]"), obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), status_code::io_error);
  EXPECT_EQ(obs.text(), "");
}

TEST(SortServiceCall, TimesOutAndStopsWhenAsked) {
  const auto server = scalekit::testing::listen_loopback();  // the kernel completes connections, nobody answers
  auto o = to(server.port(), "[1]");
  o.timeout = 200ms;
  core::collecting_observer obs;
  auto late = ss::call(o, obs);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code(), status_code::timeout);

  // A stop ends the wait long before the timeout.
  o.timeout = 60s;
  std::stop_source stop;
  core::collecting_observer stoppable(stop.get_token());
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto stopped = ss::call(o, stoppable);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code(), status_code::cancelled);
}

int main(int argc, char** argv) {
  ss::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
