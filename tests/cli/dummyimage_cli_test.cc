// Integration tests of `scalekit dummyimage serve` and net's HTTP server under
// it, against hostile and exacting clients on raw sockets
// (tests/fixtures/http_edge_client.py): the defects of issue 16's "network
// edge", each kept fixed here.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::command_result;
using scalekit::testing::run_command;
using scalekit::testing::server_process;

namespace {

struct dummyimage_server : server_process {
  explicit dummyimage_server(const std::string& extra = "")
      : server_process(bin, "dummyimage serve " + extra, "cli-dummyimage") {}
  // http_edge_client.py PORT ARGS
  [[nodiscard]] command_result client(const std::string& args) const {
    return run_command("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../http_edge_client.py " + port() + " " + args);
  }
};

}  // namespace

// A bare LF where CRLF belongs is a 400 at once, not a wait for the idle timeout.
TEST(CliDummyimage, ABareLfIsAnswered400AtOnce) {
  dummyimage_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("raw 'GET /8x8/fff/000.png HTTP/1.1\\nHost: x\\n\\n' 3").out,
            "HTTP/1.1 400 Bad Request\n[closed]\n");
}

// A NUL inside a header value is refused, and the connection closed.
TEST(CliDummyimage, ANulInAHeaderValueIsRefused) {
  dummyimage_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("raw 'GET /8x8/fff/000.png HTTP/1.1\\r\\nHost: x\\r\\nX-Note: a\\0b\\r\\n\\r\\n'").out,
            "HTTP/1.1 400 Bad Request\n[closed]\n");
}

// `Content-Length : 27` (whitespace before the colon) is refused: read as no
// header at all, it would make the 27 body bytes the next request, and the
// request behind them would never be answered (request smuggling's raw material).
TEST(CliDummyimage, WhitespaceBeforeAColonIsRefusedAndTheConnectionClosed) {
  dummyimage_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server
                .client("raw 'GET /8x8/fff/000.png HTTP/1.1\\r\\nHost: x\\r\\nContent-Length : 27\\r\\n\\r\\n"
                        "abcdefghijklmnopqrstuvwxyz\\n"
                        "GET /9x9/fff/000.png HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
                .out,
            "HTTP/1.1 400 Bad Request\n[closed]\n");
}

// Slowloris: a head sent one byte a second is cut at the head deadline (10 s
// by default) with a 408, however long the client would go on.
TEST(CliDummyimage, ASlowHeadIsCutAtTheHeadDeadline) {
  dummyimage_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  const std::string out = server.client("slowloris 1 25").out;
  EXPECT_EQ(out.rfind("closed after ", 0), 0u) << out;
  EXPECT_NE(out.find(": HTTP/1.1 408 Request Timeout"), std::string::npos) << out;
  const int after = out.rfind("closed after ", 0) == 0 ? std::stoi(out.substr(13)) : 99;
  EXPECT_LE(after, 12) << out;
}

// Connections past the cap (512 by default) are answered 503 and closed at
// once instead of holding a descriptor each.
TEST(CliDummyimage, ConnectionsPastTheCapGet503) {
  dummyimage_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  const std::string out = server.client("idle 600").out;
  int refused = 0, open = 0;
  ASSERT_EQ(std::sscanf(out.c_str(), "%d refused, %d open", &refused, &open), 2) << out;
  EXPECT_GE(refused, 80) << out;
  EXPECT_LE(open, 512) << out;
  const std::string log = server.stop();
  EXPECT_NE(log.find("connection limit"), std::string::npos) << log;  // said once in the log
}

// A body over the bound gets 413, and the client reads it: the server drains
// what the client still sends instead of resetting the connection under it.
TEST(CliDummyimage, AnOversizedBodyGets413ThatTheClientReads) {
  dummyimage_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("body-flood 5000000").out, "HTTP/1.1 413 Content Too Large\n");
}
