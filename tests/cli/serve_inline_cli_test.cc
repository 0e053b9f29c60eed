// WSGI calls run on the worker's loop thread (loop_relay, issue 12): a quick
// app is learned and run between the loop's handlers, and when such a call
// turns slow the relay's other thread takes the loop, so the server keeps its
// promises: /healthz and other apps answer, --timeout answers 504 and the
// master logs the traceback, a streamed body that waits on another request
// does not deadlock. tests/fixtures/wsgi/serve_apps.py has the apps.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "serve_helpers.h"

using scalekit::testing::serve_server;
using scalekit::testing::temp_dir;
using namespace std::chrono_literals;

namespace {

#define APPS "--pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi "

// Worker 0's counter `name` in a /metrics text, -1 when it is not there.
std::int64_t counter(const std::string& metrics, const std::string& name) {
  const std::string key = name + "{worker=\"0\"} ";
  const auto at = metrics.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + key.size()));
}

// A worker's counter on /metrics (worker 0), -1 when it is not there.
std::int64_t metric(const serve_server& server, const std::string& name) {
  return counter(server.get("/metrics"), name);
}

// Quick calls of the app at `path` until the worker has run 16 in a row on
// its loop: its score is then full, so one call that the machine's load makes
// slow does not send the next to a thread (worker.cc, quick_score). 400 at most.
void learn_quick(const serve_server& server, const std::string& path, const std::string& answer) {
  int in_a_row = 0;
  std::int64_t seen = metric(server, "scalekit_serve_wsgi_run_on_loop_total");  // each read is a Python client
  for (int i = 0; i < 400 && in_a_row < 16; ++i) {
    ASSERT_EQ(server.get(path), answer);
    const std::int64_t now = metric(server, "scalekit_serve_wsgi_run_on_loop_total");
    in_a_row = now > seen ? in_a_row + 1 : 0;
    seen = now;
  }
  if (in_a_row < 16) FAIL() << "no 16 calls of " << path << " in a row ran on the loop";
}

}  // namespace

// A quick app runs on the loop; another app that sleeps on the same worker
// keeps application threads busy, and the quick one, /healthz and the
// sleeping one all answer.
TEST(CliServeInline, AQuickAppBesideASleepingOneRunsOnTheLoopAndAnswers) {
  serve_server server("-w 1 --threads 4 " APPS "--wsgi serve_apps:sleepy --mount /slow --wsgi serve_apps:hello");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  ASSERT_NO_FATAL_FAILURE(learn_quick(server, "/", "200\nhello\n"));
  const std::int64_t before = metric(server, "scalekit_serve_wsgi_run_on_loop_total");
  EXPECT_GT(before, 0) << "the quick app never ran on the loop";
  std::string slow1, slow2;
  std::thread a([&] { slow1 = server.get("/slow/?s=3"); });
  std::thread b([&] { slow2 = server.get("/slow/?s=3"); });
  std::this_thread::sleep_for(300ms);  // both sleeping on application threads (not an assertion)
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
  EXPECT_EQ(server.get("/"), "200\nhello\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);  // not behind the sleepers
  a.join();
  b.join();
  EXPECT_EQ(slow1, "200\nslept\n");
  EXPECT_EQ(slow2, "200\nslept\n");
  // The quick call ran on the loop and the sleepers did not. (Not a count of
  // rescues: a quick call that a loaded machine preempts past the watch
  // period is rescued too, and that is the relay doing its work.)
  EXPECT_EQ(metric(server, "scalekit_serve_wsgi_run_on_loop_total"), before + 1);
}

// A call of a quick app that hangs on the loop's thread: the relay's other
// thread takes the loop, --timeout answers 504, /healthz answers meanwhile,
// and the master logs the stuck thread's traceback.
// The checks made while the call hangs must come before the worker's
// replacement (a second past the timeout), each a Python client that a loaded
// machine starts in up to a second: a timeout of 3 s, and one /metrics read.
TEST(CliServeInline, AQuickAppThatHangsOnTheLoopGets504AndItsTraceback) {
  serve_server server("-w 1 --threads 2 --timeout 3 " APPS "--wsgi serve_apps:sleepy");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  ASSERT_NO_FATAL_FAILURE(learn_quick(server, "/?s=0", "200\nslept\n"));
  const std::int64_t on_loop = metric(server, "scalekit_serve_wsgi_run_on_loop_total");
  ASSERT_GT(on_loop, 0);
  const std::int64_t rescues = metric(server, "scalekit_serve_loop_rescues_total");  // load may have made some
  std::string stuck;
  std::chrono::steady_clock::duration took{};  // the stuck request's own time, not the checks' beside it
  std::thread a([&] {
    const auto t0 = std::chrono::steady_clock::now();
    stuck = server.get("/?s=10");
    took = std::chrono::steady_clock::now() - t0;
  });
  // Until the call has started (a fixed 200 ms came before it, the request
  // being a Python client, in an asan build beside another test).
  (void)scalekit::testing::eventually([&] { return metric(server, "scalekit_serve_wsgi_run_on_loop_total") > on_loop; },
                                      10s);
  EXPECT_EQ(server.get("/healthz"), "200\nok\n");
  const std::string metrics = server.get("/metrics");
  EXPECT_EQ(counter(metrics, "scalekit_serve_wsgi_run_on_loop_total"), on_loop + 1);
  EXPECT_EQ(counter(metrics, "scalekit_serve_loop_rescues_total"), rescues + 1);
  a.join();
  EXPECT_EQ(stuck.substr(0, 4), "504\n") << stuck;
  EXPECT_LT(took, 7s);  // answered at the timeout, not at the end (10 s)
  ASSERT_TRUE(server.wait_for_log("in sleepy", 10s)) << server.log();
  EXPECT_NE(server.log().find("past the timeout of 3000 ms: replacing the worker"), std::string::npos) << server.log();
}

// A streamed body run on the loop's thread that waits for another request
// (which only the loop can read): the relay's other thread takes the loop,
// reads and runs that request, and the stream ends.
TEST(CliServeInline, AStreamOnTheLoopThatWaitsOnAnotherRequestDoesNotDeadlock) {
  serve_server server("-w 1 --threads 2 " APPS "--wsgi serve_apps:relay");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  ASSERT_NO_FATAL_FAILURE(learn_quick(server, "/quick", "200\nquick\n"));
  const std::int64_t on_loop = metric(server, "scalekit_serve_wsgi_run_on_loop_total");
  temp_dir dir("serve-inline");
  const std::string gate = dir / "gate", started = dir / "started";
  std::string streamed;
  std::thread a([&] { streamed = server.get("/wait?gate=" + gate + "&started=" + started); });
  ASSERT_TRUE(scalekit::testing::eventually([&] { return std::filesystem::exists(started); }, 10s)) << server.log();
  EXPECT_EQ(server.get("/open?gate=" + gate), "200\nopened\n");
  a.join();
  EXPECT_EQ(streamed, "200\nfirst\nsecond\n");
  EXPECT_GE(metric(server, "scalekit_serve_wsgi_run_on_loop_total"), on_loop + 1);
  EXPECT_GE(metric(server, "scalekit_serve_loop_rescues_total"), 1);
}

// Flask's answer is no list but an iterator over one piece, with its
// Content-Length: complete at its first piece, it goes to the loop whole (no
// pipe), so the app is learned quick and runs on the loop like a list-body app.
TEST(CliServeInline, AFlaskAppWhoseBodyIsCompleteAtItsFirstPieceRunsOnTheLoop) {
#if defined(__SANITIZE_ADDRESS__)
  // As under TSan (tests/CMakeLists.txt): ASan's allocator serves Python's too,
  // and a Flask call then takes about the 1 ms bound; a CI run's asan stage
  // made 300 calls with no streak of 16.
  GTEST_SKIP() << "timing: Flask's calls under ASan are not reliably under 1 ms";
#endif
  serve_server server("-w 1 --threads 2 " APPS "--wsgi flask_app:app");
  ASSERT_FALSE(server.port().empty()) << server.log();
  ASSERT_TRUE(server.wait_for_log("1 worker ready")) << server.log();
  ASSERT_NO_FATAL_FAILURE(learn_quick(server, "/", "200\nHello from Flask"));
  EXPECT_EQ(server.get("/stream"), "200\npart 0\npart 1\npart 2\n");  // no Content-Length: still streamed
  EXPECT_EQ(server.get("/"), "200\nHello from Flask");
}
