// Integration tests of `scalekit sort-service`: the server against a Python
// client speaking the seed's protocol, bad clients, timeouts, and `call`.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::command_result;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;

namespace {
// A sort-service server on a free port for the duration of a test.
struct sort_server : scalekit::testing::server_process {
  explicit sort_server(const std::string& extra = "")
      : server_process(bin, "sort-service serve " + extra, "cli-sort") {}
  command_result client(const std::string& args) const {
    return run_command("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../sort_client.py " + port() + " " + args);
  }
};
}  // namespace

// Real peer: a Python client speaking the seed's protocol.
TEST(CliSortService, SortsForAPythonClientAndSurvivesBadClients) {
  sort_server server("--max-bytes 100000 --read-timeout 2");
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("random 1000").out, "OK\n");
  EXPECT_EQ(server.client("raw '[3, -1, 2]'").out, "[-1, 2, 3]\n");
  EXPECT_EQ(server.client("raw '[]'").out, "[]\n");
  EXPECT_EQ(server.client("raw '[1, 2.5]'").out, "{\"error\": \"element 1 is not an integer\"}\n");
  EXPECT_EQ(server.client("raw '[1, \"x\"]'").out, "{\"error\": \"element 1 is not a number\"}\n");
  EXPECT_NE(server.client("raw 'not json'").out.find("invalid JSON"), std::string::npos);
  EXPECT_NE(server.client("raw '{}'").out.find("expected a JSON array"), std::string::npos);
  EXPECT_NE(server.client("raw '[99999999999999999999]'").out.find("error"), std::string::npos);
  EXPECT_EQ(server.client("declare 100001").out,
            "{\"error\": \"request of 100001 bytes exceeds the limit of 100000\"}\n");  // refused unread
  EXPECT_EQ(server.client("short 100 10").out, "{\"error\": \"short body: expected 100 bytes, got 10\"}\n");
  EXPECT_EQ(server.client("vanish").out, "closed\n");
  EXPECT_EQ(server.client("random 5000").out, "OK\n");  // still serving after all of that
  const std::string log = server.stop();
  EXPECT_NE(log.find("12 connections, 4 sorted, 7 error replies, 1 dropped"), std::string::npos) << log;
}

// A client that says nothing is closed after the idle timeout; one that stops
// halfway through its body gets an error reply after the read timeout.
TEST(CliSortService, IdleAndReadTimeouts) {
  sort_server server("--idle-timeout 0.3 --read-timeout 0.5");
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("idle").out, "closed\n");
  EXPECT_EQ(server.client("stall 100 10").out,
            "{\"error\": \"short body: expected 100 bytes, got too few within the read timeout\"}\n");
  EXPECT_EQ(server.client("random 10").out, "OK\n");
  const std::string log = server.stop();
  EXPECT_NE(log.find("3 connections, 1 sorted, 1 error replies, 1 dropped"), std::string::npos) << log;
}

TEST(CliSortService, CallClientAndProcessExecutor) {
  sort_server server("--executor processes -j 2");
  ASSERT_FALSE(server.port().empty());
  auto r = run_command("sh -c 'echo \"[5, 4, 3]\" | " + bin +
                       " -q sort-service call --connect 127.0.0.1:" + server.port() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[3, 4, 5]\n");
  auto bad = run_command("sh -c 'echo \"[1.5]\" | " + bin +
                         " -q sort-service call --connect 127.0.0.1:" + server.port() + "'");
  EXPECT_EQ(bad.exit_code, 1);
  server.stop();
  EXPECT_EQ(run_scalekit("sort-service call --connect 127.0.0.1:notaport").exit_code, 2);
}

// A call waiting for a reply that never comes ends at once on SIGTERM, as the
// signal does (status 128 + 15), with nothing on stdout.
TEST(CliSortService, CallEndsOnAStopSignal) {
  scalekit::testing::background_process silent(
      "/usr/bin/python3 -c \"import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
      "print(s.getsockname()[1], flush=True); time.sleep(60)\"",
      "silent-server");
  for (int i = 0; i < 500 && silent.out().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::string port = silent.out().substr(0, silent.out().find('\n'));
  ASSERT_FALSE(port.empty());
  scalekit::testing::background_process call(bin + " sort-service call --connect 127.0.0.1:" + port, "sort-call");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  call.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(call.exit_code(), 128 + 15) << call.log();
  EXPECT_EQ(call.out(), "");
}
