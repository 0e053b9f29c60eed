// The hostile user's second round (issue 16): each test failed before its
// fix. Standard output that cannot be written has its own file
// (hostile_stdout_cli_test.cc).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
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
    widths.insert(static_cast<unsigned char>(bytes[0]) + 256u * static_cast<unsigned char>(bytes[1]));  // LE width
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
    const auto r = run_command("prlimit --as=2147483648 " + bin + " search " + d.path.string() + " foo --executor " +
                               executor + " -j 2");
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

// ---- a truncated PNG has a reason ---------------------------------------------------

// Cut inside its first chunks, a PNG gave libvips no words: "corrupt: " and
// "cannot read 't.png': " ended with nothing.
TEST(HostileRound2, ATruncatedPngSaysItIsTruncated) {
  temp_dir d("h2-trunc");
  ASSERT_EQ(run_command(bin + " mandelbrot -W 64 -H 64 -o " + d / "full.png").exit_code, 0);
  for (const int cut : {20, 40, 60}) {
    const std::string in = d / ("t" + std::to_string(cut) + ".png");
    std::ofstream(in, std::ios::binary) << slurp(d / "full.png").substr(0, static_cast<std::size_t>(cut));
    const auto thumb = run_command(bin + " thumbnail -o " + d / "o " + in);
    EXPECT_EQ(thumb.exit_code, 1) << thumb.err;
    EXPECT_NE(thumb.err.find(in + ": truncated: "), std::string::npos) << thumb.err;
    const auto rle = run_command(bin + " rle compress " + in + " " + d / "x.rle");
    EXPECT_EQ(rle.exit_code, 1) << rle.err;
    EXPECT_NE(rle.err.find("cannot read '" + in + "': truncated: "), std::string::npos) << rle.err;
  }
}

// ---- output locations are checked before the work, as bad usage ---------------------

TEST(HostileRound2, AnOutputDirectoryThatIsAFileIsBadUsageBeforeAnyWork) {
  temp_dir d("h2-outdir");
  std::ofstream(d / "a.bmp") << "x";
  ASSERT_EQ(run_command(bin + " mandelbrot -W 16 -H 16 -o " + d / "full.png").exit_code, 0);
  fs::create_directories(d / "in");
  ASSERT_EQ(run_command("/usr/bin/convert -size 16x16 xc:white BMP3:" + d / "in/a.bmp").exit_code, 0);
  for (const std::string& args : {
           "scale mandelbrot --executors serial --sizes 16 --workers 1 --repeat 1 --report " + d / "a.bmp",
           "thumbnail -o " + d / "a.bmp " + d / "full.png",
           "rle compress-dir " + d / "in " + d / "a.bmp/sub",
       }) {
    const auto r = run_command(bin + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("'" + d / "a.bmp' exists and is not a directory (a regular file)"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("runs"), std::string::npos) << r.err;  // no sweep was run
  }
  EXPECT_EQ(slurp(d / "a.bmp"), "x");
}

// A user who may not write where the output directory would be made gets one
// line saying so before any work, not one "No such file" per image.
TEST(HostileRound2, AnOutputDirectoryTheUserCannotMakeIsBadUsageBeforeAnyWork) {
  temp_dir d("h2-outdir-perm");
  fs::permissions(d.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  ASSERT_EQ(run_command(bin + " mandelbrot -W 16 -H 16 -o " + d / "a.png").exit_code, 0);
  ASSERT_EQ(run_command(bin + " mandelbrot -W 16 -H 16 -o " + d / "b.png").exit_code, 0);
  const std::string as_nobody = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  for (const std::string& out : {d / "new", d / "new/deeper"}) {
    const auto r = run_command(as_nobody + bin + " thumbnail -o " + out + " " + d / "a.png " + d / "b.png");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "scalekit thumbnail: cannot make '" + out + "': '" + d.path.string() +
                         "' cannot be written in (permission denied)\n");
  }
  const auto here = run_command(as_nobody + bin + " thumbnail -o " + d.path.string() + " " + d / "a.png");
  EXPECT_EQ(here.exit_code, 2) << here.err;
  EXPECT_NE(here.err.find("cannot write in '" + d.path.string() + "' (permission denied)"), std::string::npos)
      << here.err;
  EXPECT_FALSE(fs::exists(d / "new"));
}

// ---- bad input files and URLs are bad usage -----------------------------------------

TEST(HostileRound2, ScaleFitNamesANumberOutOfRangeWithItsLine) {
  temp_dir d("h2-fit");
  std::ofstream(d / "f.json")
      << "[{\"concurrency\": 1, \"throughput\": 1},\n {\"concurrency\": 1e400, \"throughput\": 1}]";
  const auto r = run_command(bin + " scale fit " + d / "f.json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(d / "f.json" + ":2: '1e400' is out of range"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
}

TEST(HostileRound2, AWorkerWithAMalformedBrokerUrlStopsWithStatus2) {
  for (const std::string url : {"redis://[::1/0", "redis://::1/0", "redis://h:1:2/0"}) {
    const auto r = run_command("timeout 20 " + bin + " worker --broker '" + url + "'");
    EXPECT_EQ(r.exit_code, 2) << url << "\n" << r.err;
    EXPECT_NE(r.err.find(url), std::string::npos) << r.err;
  }
}

// Under --json every usage error is a JSON document on stdout, those found
// while parsing the arguments too.
TEST(HostileRound2, ArgumentErrorsUnderJsonAreAJsonDocument) {
  for (const std::string args : {"--json bogus", "--json factorial -1 5", "factorial 5 -j 0 --json"}) {
    const auto r = run_command(bin + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    const auto doc = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << args << ": " << r.out;
    EXPECT_TRUE(doc["error"].is_string()) << args << ": " << r.out;
    EXPECT_EQ(doc["lines"], nlohmann::json::array()) << args;
  }
  EXPECT_EQ(run_command(bin + " bogus").out, "");  // without --json, stdout stays empty
}

// ---- a full disk says so, and counts only what was written ---------------------------

// RLIMIT_FSIZE with SIGXFSZ ignored: each write past it fails with EFBIG,
// as a full disk fails with ENOSPC.
TEST(HostileRound2, AFailedWriteIsNamedAndNotCountedAsWritten) {
  temp_dir d("h2-fsize");
  const std::string limited = "sh -c \"trap '' XFSZ; ulimit -f 40; exec " + bin + " ";
  const auto m = run_command(limited + "mandelbrot -W 2000 -H 2000 -n 50 -o " + d / "m.png\"");
  EXPECT_EQ(m.exit_code, 1) << m.err;
  EXPECT_NE(m.err.find("cannot write '" + d / "m.png': File too large"), std::string::npos) << m.err;
  EXPECT_FALSE(fs::exists(d / "m.png"));
  const auto n = run_command(limited + "numbers gen --dir " + d / "n --files 3 --per-file 100000\"");
  EXPECT_EQ(n.exit_code, 1) << n.err;
  EXPECT_NE(n.err.find("3 files, 0 numbers, 0 bytes"), std::string::npos) << n.err;
}

// ---- find in a tree deeper than PATH_MAX ---------------------------------------------

namespace {

// dirs levels of 240-byte names under `root` (past PATH_MAX with 20), made
// relative to each other, since the whole path is too long for mkdir(2).
fs::path make_deep_tree(const fs::path& root, int levels) {
  const std::string name(240, 'd');
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY);
  std::string path = root.string();
  for (int i = 0; i < levels && fd >= 0; ++i) {
    ::mkdirat(fd, name.c_str(), 0755);
    const int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    ::close(fd);
    fd = next;
    path += "/" + name;
  }
  if (fd >= 0) {
    ::close(::openat(fd, "needle", O_WRONLY | O_CREAT, 0644));
    ::close(fd);
  }
  return path;
}

}  // namespace

TEST(HostileRound2, FindWalksATreeDeeperThanPathMax) {
  temp_dir d("h2-deep");
  const fs::path deepest = make_deep_tree(d.path, 20);
  ASSERT_GT(deepest.string().size(), 4096u);
  const auto r = run_command(bin + " find needle " + d.path.string());
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 600);
  EXPECT_EQ(r.out, deepest.string() + "/needle\n");
}

// An unreadable directory deep down: its error line is cut (README: long
// text cut), and the walk goes on with the rest.
TEST(HostileRound2, FindCutsALongPathInAnErrorLine) {
  temp_dir d("h2-deep-err");
  fs::permissions(d.path, fs::perms::all);
  const fs::path deepest = make_deep_tree(d.path, 10);
  fs::permissions(deepest, fs::perms::none);
  std::ofstream(d / "needle.txt") << "x";
  fs::permissions(d / "needle.txt", fs::perms::all);
  const std::string as_nobody = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const auto r = run_command(as_nobody + bin + " find needle " + d.path.string());
  fs::permissions(deepest, fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 1) << r.err.substr(0, 600);
  EXPECT_EQ(r.out, d / "needle.txt\n");
  std::istringstream lines(r.err);
  bool named = false;
  for (std::string l; std::getline(lines, l);) {
    EXPECT_LE(l.size(), 600u) << l.substr(0, 300);
    named = named || l.find("permission denied") != std::string::npos;
  }
  EXPECT_TRUE(named) << r.err.substr(0, 600);
}
