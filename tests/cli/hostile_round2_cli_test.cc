// The hostile user's second round (issue 16): each test failed before its
// fix. Standard output that cannot be written has its own file
// (hostile_stdout_cli_test.cc).

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "redis_server.h"
#include "sanitizers.h"

namespace fs = std::filesystem;
using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::redis_server;
using scalekit::testing::run_command;
using scalekit::testing::server_process;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

bool has_raw_control(const std::string& s) {
  for (const char c : s)
    if (c == '\x1B' || c == '\x07' || c == '\x01') return true;
  return false;
}

}  // namespace

// ---- rle compress-dir: outputs whose names clash ----------------------------------

// a.bmp and a.BMP both made a.rle: the second silently replaced the first.
// Now the second is named as thumbnail names a clash, by its whole name.
TEST(HostileRound2, RleCompressDirKeepsImagesWhoseNamesDifferOnlyInCase) {
  temp_dir d("h2-rle-case");
  fs::create_directories(d / "cc");
  ASSERT_EQ(run_command("/usr/bin/convert -size 16x16 xc:white BMP3:" + d / "cc/a.bmp").exit_code, 0);
  ASSERT_EQ(run_command("/usr/bin/convert -size 32x32 xc:white BMP3:" + d / "cc/a.BMP").exit_code, 0);
  const auto r = run_command(bin + " rle compress-dir " + d / "cc " + d / "occ");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<unsigned> widths;
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(d.path / "occ")) {
    names.insert(e.path().filename().string());
    const std::string bytes = slurp(e.path());
    ASSERT_GE(bytes.size(), 4u);
    widths.insert(static_cast<unsigned char>(bytes[0]) | static_cast<unsigned>(static_cast<unsigned char>(bytes[1])) << 8);
  }
  EXPECT_EQ(names, (std::set<std::string>{"a.rle", "a.bmp.rle"}));
  EXPECT_EQ(widths, (std::set<unsigned>{16, 32}));
}

// --row-executor serial runs rows on one thread: the summary said "-j 2".
TEST(HostileRound2, RleCompressDirSummaryGivesNoThreadCountForSerialRows) {
  temp_dir d("h2-rle-serial");
  fs::create_directories(d / "in");
  ASSERT_EQ(run_command("/usr/bin/convert -size 16x16 xc:white BMP3:" + d / "in/a.bmp").exit_code, 0);
  const auto r = run_command(bin + " rle compress-dir " + d / "in " + d / "out" +
                             " --image-executor threads --row-executor serial -j 2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rows on serial"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("rows on serial, -j"), std::string::npos) << r.err;
}

// ---- search: a huge binary file is sniffed, not read --------------------------------

// A 3 GiB sparse file of NULs under a 2 GiB address-space limit: search
// reserved room for it and died of std::bad_alloc, naming nothing.
TEST(HostileRound2, SearchSkipsAHugeBinaryFileFromItsFirstBlock) {
  if (scalekit::testing::sanitized) GTEST_SKIP() << "sanitizers reserve terabytes of address space (sanitizers.h)";
  temp_dir d("h2-search-sparse");
  std::ofstream(d / "a.txt") << "find foo here\n";
  std::ofstream(d / "z.txt").close();
  fs::resize_file(d / "z.txt", std::uintmax_t{3} << 30);
  for (const std::string executor : {"serial", "processes"}) {
    const auto r = run_command("prlimit --as=2147483648 " + bin + " search " + d.path.string() +
                               " foo --executor " + executor + " -j 2");
    EXPECT_EQ(r.exit_code, 0) << executor << "\n" << r.err;
    EXPECT_EQ(r.out, "find foo here\n") << executor;
    EXPECT_NE(r.err.find("1 binary skipped"), std::string::npos) << executor << "\n" << r.err;
  }
}

// ---- what peers send is shown escaped ---------------------------------------------

TEST(HostileRound2, ZoneFileErrorsShowABadCharacterEscaped) {
  temp_dir d("h2-zone");
  std::ofstream(d / "zone") << "a\x01"
                               "b.test 10.1.2.3\nok.test 10.1.2.4\n";
  server_process server(bin, "dns serve --zone " + d / "zone", "h2-zone");
  ASSERT_FALSE(server.port().empty()) << server.log();
  const std::string log = server.stop();
  EXPECT_NE(log.find("bad character '\\x01'"), std::string::npos) << log;
  EXPECT_FALSE(has_raw_control(log)) << log;
}

TEST(HostileRound2, DnsLogQueriesShowsAQueriedNameEscaped) {
  server_process server(bin, "dns serve --log-queries", "h2-dnslog");
  ASSERT_FALSE(server.port().empty()) << server.log();
  // dig's \DDD: ESC (27) and BEL (7) in a label.
  const auto r = run_command("dig +short +time=5 +tries=1 @127.0.0.1 -p " + server.port() + " 'a\\027b\\007c.test'");
  EXPECT_EQ(r.out, "127.0.0.1\n") << r.err;
  ASSERT_TRUE(server.wait_for_log("query from")) << server.log();
  const std::string log = server.stop();
  EXPECT_NE(log.find("a\\x1Bb\\x07c.test"), std::string::npos) << log;
  EXPECT_FALSE(has_raw_control(log)) << log;
}

TEST(HostileRound2, WorkerLogsAPeersTaskNameEscaped) {
  redis_server redis;
  temp_dir d("h2-worker");
  background_process worker(bin + " worker --loglevel info -c 1 --pool threads --broker " + redis.url(), "h2-worker");
  ASSERT_TRUE(worker.wait_for_log("consuming")) << worker.log();
  // A Celery message whose headers.task holds an OSC title sequence (ESC ] ... BEL).
  std::ofstream(d / "msg")
      << R"({"body": "W1tdLCB7fSwge31d", "content-encoding": "utf-8", "content-type": "application/json", )"
         R"("headers": {"lang": "py", "task": "evil\u001b]0;pwned\u0007", "id": "h2-task-1", "retries": 0, )"
         R"("root_id": "h2-task-1", "parent_id": null, "group": null}, "properties": {"correlation_id": "h2-task-1", )"
         R"("reply_to": "", "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "celery"}, )"
         R"("priority": 0, "body_encoding": "base64", "delivery_tag": "h2-tag-1"}})";
  const auto push =
      run_command("sh -c 'redis-cli -p " + std::to_string(redis.port()) + " -x LPUSH celery < " + (d / "msg") + "'");
  ASSERT_EQ(push.exit_code, 0) << push.err;
  ASSERT_TRUE(worker.wait_for_log("h2-task-1")) << worker.log();
  const std::string log = worker.stop();
  EXPECT_NE(log.find("evil\\x1B]0;pwned\\x07"), std::string::npos) << log;
  EXPECT_FALSE(has_raw_control(log)) << log;
}
