// Regression tests of issue 16 (a hostile user's findings), the commands'
// side: each failed before its fix. The shared nasty inputs are in
// hostile_cli_test.cc.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::server_process;
using scalekit::testing::temp_dir;
using scalekit::testing::test_http_server;

namespace {

std::size_t line_count(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

// ---- --json: one document on stdout, the results and the summary ---------------

// Every command's --json is one JSON document and nothing else on stdout:
// its result lines in "lines" (primes check, find and search dropped them;
// factorial printed no JSON at all), the summary's fields beside them.
TEST(Issue16, JsonIsOneDocumentWithTheLinesForEveryCommand) {
  temp_dir d("i16-json");
  std::ofstream(d / "a.txt") << "needle one\nhay\n";
  struct json_case {
    std::string args;
    std::size_t lines;  // result lines expected
    std::string job;
  };
  const std::vector<json_case> all = {
      {"mandelbrot -W 8 -H 8 -o " + d / "m.png", 0, "mandelbrot"},
      {"primes check 7 8", 2, "primes check"},
      {"primes factor 12", 1, "primes factor"},
      {"burn --iterations 1000 -j 1", 2, "burn"},  // the worker's line, "work took"
      {"numbers gen --dir " + d / "n" + " --files 3", 0, "numbers gen"},
      {"numbers sort --dir " + d / "n" + " --files 3 -o " + d / "sorted.txt", 0, "numbers sort"},
      {"factorial 3 5", 3, "factorial"},
      {"coop 10", 2, "coop"},
      {"find needle " + d.path.string(), 0, "find"},  // no path holds "needle"
      {"find a.txt " + d.path.string(), 1, "find"},
      {"search " + d.path.string() + " needle -j 1", 1, "search"},
      {"rle compress " + d / "m.png" + " " + d / "m.rle", 0, "rle compress"},
      {"rle decompress " + d / "m.rle" + " " + d / "m.bmp", 0, "rle decompress"},
      {"thumbnail " + d / "m.png" + " -o " + d / "t", 1, "thumbnail"},
  };
  for (const auto& c : all) {
    const auto r = run_scalekit("--json " + c.args);
    ASSERT_EQ(r.exit_code, 0) << c.args << "\n" << r.err;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << c.args << "\n" << r.out;
    // No summary field named like the lines (search's count of corpus lines
    // was a second "lines", and parsers keep only one of them).
    EXPECT_EQ(count_of(r.out, "\"lines\":"), 1u) << c.args << "\n" << r.out;
    EXPECT_EQ(j["job"], c.job) << c.args;
    ASSERT_TRUE(j["lines"].is_array()) << c.args << "\n" << r.out;
    EXPECT_EQ(j["lines"].size(), c.lines) << c.args << "\n" << r.out;
    EXPECT_EQ(j["failures"], 0) << c.args;
    EXPECT_TRUE(j.contains("elapsed_s")) << c.args;
  }
  const auto primes = nlohmann::json::parse(run_scalekit("--json primes check 7 8").out);
  EXPECT_EQ(primes["lines"], nlohmann::json::array({"7 is prime", "8 is not prime"}));
  EXPECT_EQ(primes["numbers"], 2);
}

// A job that fails still gives one document: the lines so far, the job and the error.
TEST(Issue16, JsonOfAFailedJobNamesTheError) {
  const auto r = run_scalekit("--json primes check --file /nonexistent");
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["lines"], nlohmann::json::array());
  EXPECT_EQ(j["job"], "primes check");
  EXPECT_EQ(j["error"], "cannot read '/nonexistent': no such file or directory");
  const auto usage = run_scalekit("--json mandelbrot -o m.jpg");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_TRUE(nlohmann::json::parse(usage.out).contains("error"));
}

// The services' --json too, and fetch's records stay beside the lines.
TEST(Issue16, JsonOfServicesAndFetch) {
  test_http_server http;
  ASSERT_FALSE(http.port().empty()) << http.log();
  const auto fetch = run_command(bin + " --json fetch " + http.url("/bytes/5"));
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  const auto f = nlohmann::json::parse(fetch.out);
  EXPECT_EQ(f["lines"].size(), 1u);
  EXPECT_EQ(f["results"].size(), 1u);
  server_process dns(bin, "--json dns serve", "i16-dns");
  ASSERT_FALSE(dns.port().empty()) << dns.log();
  dns.stop();
  EXPECT_EQ(dns.exit_code(), 0) << dns.log();
  const auto j = nlohmann::json::parse(dns.out());
  EXPECT_EQ(j["job"], "dns serve");
  EXPECT_EQ(j["lines"], nlohmann::json::array());
}

// ---- messages a person can act on ------------------------------------------------

TEST(Issue16, MessagesSayWhatIsWrong) {
  temp_dir d("i16-msg");
  // Not "A subcommand is required".
  const auto bogus = run_scalekit("bogus");
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_NE(bogus.err.find("'bogus' is not a command"), std::string::npos) << bogus.err;
  // Not "FROM (18446744073709551615)".
  const auto negative = run_scalekit("factorial -1 5");
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.err.find("'-1' is negative"), std::string::npos) << negative.err;
  EXPECT_EQ(negative.err.find("18446744073709551615 is"), std::string::npos) << negative.err;
  EXPECT_EQ(run_scalekit("numbers gen --files -1").exit_code, 2);
  EXPECT_EQ(run_scalekit("thumbnail --random-urls http://x --limit -1 -o " + d / "o").exit_code, 2);
  // Invisible characters are shown, long input is cut.
  std::ofstream(d / "n.txt", std::ios::binary) << "\xEF\xBB\xBF"
                                                  "13\n17\r\n1\r3\n"
                                               << std::string(4000, '9') << "\n";
  const auto primes = run_scalekit("primes check --file " + d / "n.txt");
  EXPECT_EQ(primes.exit_code, 1);
  EXPECT_NE(primes.err.find(":1: '\\uFEFF13': not a number"), std::string::npos) << primes.err;
  EXPECT_NE(primes.err.find(":3: '1\\r3': not a number"), std::string::npos) << primes.err;
  EXPECT_NE(primes.err.find(":4: '9999999999999999999999999999999999999999... (4000 bytes)'"), std::string::npos)
      << primes.err;
  EXPECT_LT(primes.err.size(), 1000u) << primes.err;
  EXPECT_EQ(primes.out, "17 is prime\n");  // CRLF is a line ending
  // A symbolic link loop says so (not "no such file or directory").
  fs::create_symlink(d / "loop.png", d / "loop.png");
  const auto loop = run_scalekit("thumbnail " + d / "loop.png" + " -o " + d / "t");
  EXPECT_EQ(loop.exit_code, 1);
  EXPECT_NE(loop.err.find("loop.png: cannot read: a symbolic link loop"), std::string::npos) << loop.err;
  // A 0x5 RLE header has no pixels for a BMP (not "out of memory").
  std::ofstream(d / "empty.rle", std::ios::binary) << std::string("\0\0\5\0", 4);
  const auto rle = run_scalekit("rle decompress " + d / "empty.rle" + " " + d / "out.bmp");
  EXPECT_EQ(rle.exit_code, 1);
  EXPECT_NE(rle.err.find("0x5: an image without pixels"), std::string::npos) << rle.err;
  EXPECT_EQ(rle.err.find("memory"), std::string::npos) << rle.err;
  EXPECT_FALSE(fs::exists(d / "out.bmp"));
  // A listen address that is a name: not only "Invalid argument".
  const auto dns = run_scalekit("dns serve --listen nohost:53");
  EXPECT_EQ(dns.exit_code, 2);
  EXPECT_NE(dns.err.find("not an IPv4 or IPv6 address"), std::string::npos) << dns.err;
  const auto broker = run_scalekit("worker --broker http://x");
  EXPECT_EQ(broker.exit_code, 2) << broker.err;
  EXPECT_EQ(run_scalekit("worker --broker redis://127.0.0.1:6379/99").exit_code, 2);
  EXPECT_EQ(run_scalekit("worker --broker redis://127.0.0.1:99999/0").exit_code, 2);
}

// mandelbrot wrote PNG bytes into m.jpg: the extension must say the format.
TEST(Issue16, MandelbrotRefusesAnExtensionItDoesNotWrite) {
  temp_dir d("i16-jpg");
  const auto r = run_scalekit("mandelbrot -W 8 -H 8 -o " + d / "m.jpg");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("writes PNG (.png) or raw RGB (.rgb), not '.jpg'"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(d.path));
  EXPECT_EQ(run_scalekit("mandelbrot -W 8 -H 8 -o " + d / "m.PNG").exit_code, 0);
}

// A truncated JPEG's error is the decoder's, not "vips2png: unable to write to target target".
TEST(Issue16, ATruncatedImageSaysTruncatedOnly) {
  temp_dir d("i16-trunc");
  const auto made =
      run_command(std::string("/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../thumb_images.py make ") + d.path.string());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto r = run_scalekit("thumbnail " + d / "truncated.jpg" + " -o " + d / "t --executor threads");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("truncated.jpg: truncated: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("unable to write"), std::string::npos) << r.err;
}

// ---- hangs ------------------------------------------------------------------------

// Every download fails: the job gave no thumbnail and never ended. It gives
// up after --give-up-after failures in a row, with a clear error.
TEST(Issue16, RandomUrlsGiveUpWhenNothingCanBeFetched) {
  temp_dir d("i16-giveup");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_scalekit("thumbnail --random-urls http://127.0.0.1:1 -o " + d / "t" +
                              " --limit 2 --give-up-after 10 --consumers 2");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("gave up after 10 URLs in a row failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 thumbnails made of 2"), std::string::npos) << r.err;
}

// A stop request drops queued downloads and abandons those in flight: the
// job ends within a second or two even when every download would hang for
// its whole --timeout (the issue saw 10 minutes and two SIGINTs).
TEST(Issue16, RandomUrlsStopAtOnceWhileDownloadsHang) {
  test_http_server http;
  ASSERT_FALSE(http.port().empty()) << http.log();
  for (const int sig : {SIGINT, SIGTERM}) {
    temp_dir d("i16-hang");
    background_process job(bin + " thumbnail --random-urls " + http.url("/hang") + " -o " + d / "t" +
                               " --limit 5 --timeout 600 --consumers 4",
                           "i16-hang-job");
    std::this_thread::sleep_for(1s);
    const auto t0 = std::chrono::steady_clock::now();
    ::kill(job.pid(), sig);
    ASSERT_TRUE(job.wait_exit(5s)) << job.log();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(job.exit_code(), 128 + sig) << job.log();
    EXPECT_FALSE(fs::exists(d / "t") && !fs::is_empty(d / "t"));
  }
}

// numbers gen interrupted: every file on disk is whole (none empty, none
// half-written), and no temporary is left.
TEST(Issue16, NumbersGenInterruptedLeavesOnlyWholeFiles) {
  temp_dir d("i16-gen");
  background_process job(bin + " numbers gen --dir " + d / "n" + " --files 200000 --per-file 20 -j 2", "i16-gen-job");
  // Until it has written files (a fixed 700 ms was before the first in a sanitizer build beside other tests).
  const auto has_files = [&] {
    std::error_code ec;
    return fs::exists(d / "n", ec) && !fs::is_empty(d / "n", ec) && !ec;
  };
  (void)scalekit::testing::eventually(has_files);
  std::this_thread::sleep_for(100ms);
  ::kill(job.pid(), SIGINT);
  ASSERT_TRUE(job.wait_exit(10s)) << job.log();
  EXPECT_EQ(job.exit_code(), 128 + SIGINT) << job.log();
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(d / "n")) {
    const std::string name = e.path().filename().string();
    ASSERT_EQ(name.rfind("numbers_", 0), 0u) << name;  // no temporary
    std::ifstream in(e.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(line_count(text), 20u) << name;
    ++files;
  }
  EXPECT_GT(files, 0u);
  EXPECT_LT(files, 200000u);
}
