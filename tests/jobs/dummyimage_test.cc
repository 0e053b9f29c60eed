#include "scalekit/jobs/dummyimage/dummyimage.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <stop_token>
#include <string>
#include <thread>

#include "loopback.h"
#include "scalekit/core/job.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/net/fetch.h"

// The dummyimage service through its entry, on every local executor: served
// in a thread of the test until its observer's stop token fires, asked with
// net's HTTP client.

using namespace scalekit;
namespace di = scalekit::jobs::dummyimage;

namespace {

std::int64_t count_of(const core::report& r, std::string_view key) {
  const auto* v = r.find(key);
  const auto* u = v ? std::get_if<std::uint64_t>(v) : nullptr;
  return u ? static_cast<std::int64_t>(*u) : -1;
}

// The port of the "listening on 127.0.0.1:PORT" message, once it came ("" if never).
std::string wait_for_port(const core::collecting_observer& obs) {
  const std::string prefix = "listening on 127.0.0.1:";
  for (int i = 0; i < 1000; ++i) {
    for (const auto& m : obs.messages())
      if (m.rfind(prefix, 0) == 0) return m.substr(prefix.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

net::fetch_result get(const std::string& port, const std::string& path) {
  net::fetch_options o;
  o.keep_body = true;
  o.timeout = std::chrono::seconds(20);
  return net::fetch_one("http://127.0.0.1:" + port + path, o);
}

}  // namespace

class DummyimageService : public ::testing::TestWithParam<core::executor_kind> {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    if (GetParam() == core::executor_kind::openmp) GTEST_SKIP() << "OpenMP under TSan gives false positives";
#endif
  }
};

TEST_P(DummyimageService, ServesUntilTheStopAndReports) {
  auto ex = core::make_executor(GetParam(), {.jobs = 2});
  std::stop_source stop;
  core::collecting_observer obs(stop.get_token());
  di::server_options o;
  o.port = 0;
  o.fail_every = 3;  // the third image request gets 503
  result<core::report> r = status::internal("never ran");
  std::jthread service([&] { r = di::serve(o, *ex, obs); });
  const std::string port = wait_for_port(obs);
  ASSERT_FALSE(port.empty());

  const auto png = get(port, "/32x24/fff/000.png");
  ASSERT_TRUE(png.error.ok()) << png.error.to_string();
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.content_type, "image/png");
  EXPECT_EQ(png.body.substr(1, 3), "PNG");
  const auto jpg = get(port, "/40x30/0a0/fff.jpg");
  EXPECT_EQ(jpg.status, 200);
  EXPECT_EQ(jpg.content_type, "image/jpeg");
  EXPECT_EQ(get(port, "/8x8/000/fff.png").status, 503);
  EXPECT_EQ(get(port, "/0x24/fff/000.png").status, 400);
  EXPECT_EQ(get(port, "/nothing").status, 404);

  stop.request_stop();
  service.join();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(count_of(*r, "requests"), 5);
  EXPECT_GE(count_of(*r, "connections"), 1);
  EXPECT_EQ(count_of(*r, "client_errors"), 2);  // the 400 and the 404
  EXPECT_EQ(count_of(*r, "tasks"), 2);          // the two images rendered on the executor
  EXPECT_EQ(r->failures, 0u);
  EXPECT_EQ(r->summary_line().find("dummyimage serve: served 5 requests on "), 0u) << r->summary_line();
  EXPECT_EQ(obs.text(), "");  // a service has no result lines
}

// Stopped before it starts: it listens, then ends at once with its report.
TEST_P(DummyimageService, AStopAlreadyRequestedEndsItAtOnce) {
  auto ex = core::make_executor(GetParam(), {.jobs = 1});
  std::stop_source stop;
  stop.request_stop();
  core::collecting_observer obs(stop.get_token());
  di::server_options o;
  o.port = 0;
  auto r = di::serve(o, *ex, obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(count_of(*r, "requests"), 0);
}

// Not listening is the service's failure (the command line's 1), not a bad option.
// A host that is not an address is bad usage (exit status 2, issue 16); a
// port that is taken is a failure to serve.
TEST_P(DummyimageService, ABadAddressIsInvalidAndATakenPortAnIoError) {
  auto ex = core::make_executor(GetParam(), {.jobs = 1});
  core::collecting_observer obs;
  di::server_options o;
  o.host = "not-an-address";
  auto bad = di::serve(o, *ex, obs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), status_code::invalid_argument);
  EXPECT_NE(bad.error().message().find("not-an-address"), std::string::npos) << bad.error().message();
  const auto listener = scalekit::testing::listen_loopback();
  ASSERT_TRUE(listener.ok()) << std::strerror(listener.error());
  di::server_options taken;
  taken.port = listener.port();
  auto busy = di::serve(taken, *ex, obs);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code(), status_code::io_error) << busy.error().message();
}

INSTANTIATE_TEST_SUITE_P(Kinds, DummyimageService,
                         ::testing::Values(core::executor_kind::serial, core::executor_kind::threads,
                                           core::executor_kind::processes, core::executor_kind::openmp),
                         [](const auto& p) { return std::string(core::to_string(p.param)); });

int main(int argc, char** argv) {
  di::register_tasks();
  if (auto rc = core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
