// Integration tests of `scalekit sort-service`: the server against a Python
// client speaking the seed's protocol, bad clients, timeouts, and `call`.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "loopback.h"
#include "sanitizers.h"

using scalekit::testing::bin;
using scalekit::testing::command_result;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;

namespace {
// A line of /proc/PID/status ("VmRSS", "VmHWM"), in kB; 0 when absent.
unsigned long proc_status_kb(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stoul(line.substr(key.size() + 1));
  return 0;
}

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
  const auto silent = scalekit::testing::listen_loopback();  // the kernel accepts, nobody answers
  ASSERT_TRUE(silent.ok());
  scalekit::testing::background_process call(
      bin + " sort-service call --connect 127.0.0.1:" + std::to_string(silent.port()), "sort-call");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  call.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(call.exit_code(), 128 + 15) << call.log();
  EXPECT_EQ(call.out(), "");
}

// Issue 16: twenty connections that declare 64 MiB and send no body cost no
// memory: buffers grow as the body arrives, not when it is announced (they
// took the server to 1.4 GB).
TEST(CliSortService, DeclaredLengthsAreNotAllocatedAhead) {
  sort_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  const auto r = server.client("hold 20 67108864 " + std::to_string(server.pid()));
  ASSERT_FALSE(r.out.empty()) << r.err;
  EXPECT_LT(std::stoul(r.out), 300000u) << "resident kB with 20 x 64 MiB declared";
}

// The bytes held for requests across all connections are bounded (256 MiB by
// default): past it, a client gets an error reply saying the server is busy.
// The clients end their bodies short once all have sent their part, so the
// replies need not wait for the read timeout; that is long because a loaded
// machine sends 300 MiB slowly (with 3 s, every body could time out before the
// bound was reached).
TEST(CliSortService, BytesInFlightAreBounded) {
  sort_server server("--read-timeout 60");
  ASSERT_FALSE(server.port().empty()) << server.log();
  const auto r = server.client("flood 5 67108864 62914560");  // 5 x 60 MiB sent of 64 MiB declared
  EXPECT_NE(r.out.find("busy"), std::string::npos) << r.out << r.err;
  EXPECT_LT(proc_status_kb(server.pid(), "VmHWM"), 700000u);
  const std::string log = server.stop();
  EXPECT_NE(log.find("busy"), std::string::npos) << log;  // and the log says so
}

// Connections past the cap (512 by default) get an error reply at once.
TEST(CliSortService, ConnectionsPastTheCapGetAnErrorReply) {
  sort_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  const auto r = server.client("many 530");
  ASSERT_FALSE(r.out.empty()) << r.err;
  EXPECT_GE(std::stoi(r.out), 18) << r.out;
  const std::string log = server.stop();
  EXPECT_NE(log.find("connection limit"), std::string::npos) << log;
}

// A refused request is answered, and the client reads the answer, even while
// it is still sending: the server shuts down its side, drains the input for a
// moment and only then closes (a close with unread input resets the connection).
TEST(CliSortService, ARefusedClientReadsItsErrorReply) {
  sort_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_EQ(server.client("huge 1099511627776 4194304").out,
            "{\"error\": \"request of 1099511627776 bytes exceeds the limit of 67108864\"}\n");
}

// `call` reads its request with a bound: /dev/zero on stdin is refused with a
// message instead of filling the memory.
TEST(CliSortService, CallRefusesAnEndlessRequest) {
  const auto r = run_command("sh -c '" + scalekit::testing::address_space_limit(4000000) + "exec timeout 30 " + bin +
                             " sort-service call --connect 127.0.0.1:1 < /dev/zero'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("standard input: more than 67108864 bytes"), std::string::npos) << r.err;
}
