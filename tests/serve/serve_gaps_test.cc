// `scalekit serve` against the small gaps of issue 12: an app's unbounded
// response head, an app's error after a whole response, a process an app forks
// that lives on. The real master and workers, real sockets.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "cli_helpers.h"
#include "loopback.h"
#include "serve_helpers.h"

using scalekit::testing::json;
using scalekit::testing::serve_server;
using namespace std::chrono_literals;

namespace {

const std::string gap_apps = "--pythonpath " SCALEKIT_SEEDS_DIR "/../wsgi --wsgi gap_apps:";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

// An app's head as big as it likes (100,000 fields, a 50 MB value) was built
// whole by the worker. Past a request head's bounds it is now a 500 and one
// log line naming the app and the problem; the worker keeps serving.
TEST(ServeGaps, AnOversizedResponseHeadIsA500) {
  for (const std::string app : {"many_headers", "huge_header"}) {
    serve_server server("-w 1 " + gap_apps + app);
    ASSERT_FALSE(server.port().empty()) << server.log();
    ASSERT_TRUE(server.wait_for_log("1 workers ready")) << server.log();
    EXPECT_EQ(server.get("/"), "500\nInternal Server Error\n") << app;
    EXPECT_EQ(server.get("/healthz"), "200\nok\n") << app;
    const std::string log = server.stop();
    const std::string said = app == "many_headers" ? "100000 header fields, more than the 100"
                                                   : "the header fields take more than the 16384 bytes";
    EXPECT_NE(log.find("wsgi app 'gap_apps:" + app + "': GET /: ValueError: start_response: " + said),
              std::string::npos)
        << log;
    EXPECT_EQ(count(log, "(500 sent)"), 1u) << log;
  }
}
