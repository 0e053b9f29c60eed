// Integration tests of `scalekit scale mandelbrot --executors ...,distributed`:
// each distributed run starts a private redis-server and N scalekit workers
// and stops them. Every sweep runs in a process group of its own, so that
// "nothing left behind" is "no process of the group outlives it" (the
// servers and workers are in its group). No timing is asserted beyond
// generous bounds for promptness.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_helpers.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;

namespace {

// True while a process of group `pgid` is alive (its leader reaped already).
bool group_alive(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno != ESRCH; }

// The sweep as a background job whose scratch directory is in `tmp`.
std::string sweep_command(const temp_dir& tmp, const std::string& args) {
  return "env TMPDIR=" + tmp.path.string() + " " + bin + " " + args;
}

// A worker's log in the sweep's scratch directory, once one says it consumes.
bool some_worker_consumes(const temp_dir& tmp) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(tmp.path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.rfind("worker-", 0) == 0 && slurp(it->path()).find("consuming") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

// Two worker counts, each run on a fleet of its own: the points are in the
// report, the fleet's CPU is in theirs, the image equals the serial run's, and
// no redis-server or worker outlives the sweep.
TEST(CliScaleDistributed, TinySweepMatchesSerialAndLeavesNothingRunning) {
  temp_dir tmp("dsweep-tmp");
  temp_dir dir("dsweep");
  const std::string report = dir / "report";
  background_process job(sweep_command(tmp,
                                       "--json scale mandelbrot --executors serial,distributed --workers 1,2 "
                                       "--sizes 96 --repeat 2 --seed 3 --report " +
                                           report),
                         "dsweep-job");
  const pid_t group = job.pid();
  ASSERT_TRUE(job.wait_exit(120s)) << job.log();
  ASSERT_EQ(job.exit_code(), 0) << job.log();
  EXPECT_FALSE(group_alive(group)) << "a redis-server or worker outlived the sweep";
  EXPECT_TRUE(fs::is_empty(tmp.path)) << "the scratch directory was left";

  const auto j = nlohmann::json::parse(job.out());
  EXPECT_EQ(j["executors"], "serial,distributed");
  ASSERT_EQ(j["points"].size(), 3u);  // serial 1, distributed 1 and 2
  int distributed = 0;
  for (const auto& p : j["points"]) {
    EXPECT_EQ(p["runs"], 2) << p;
    EXPECT_EQ(p["unit"], "pixels") << p;
    EXPECT_GT(p["throughput"].get<double>(), 0) << p;
    if (p["executor"] != "distributed") continue;
    ++distributed;
    EXPECT_EQ(p["workers"], distributed) << p;
    // The client's process at least, plus Redis's and the workers'.
    EXPECT_GT(p["user_s"].get<double>() + p["sys_s"].get<double>(), 0) << p;
    EXPECT_GT(p["max_rss_kib"].get<double>(), 0) << p;
    // The fleet's task latency, from the workers' logged run times: a row task each.
    EXPECT_EQ(p["tasks"], 72) << p;
    EXPECT_GT(p["task_p50_s"].get<double>(), 0) << p;
    EXPECT_LE(p["task_p50_s"].get<double>(), p["task_p99_s"].get<double>()) << p;
    EXPECT_LE(p["task_p99_s"].get<double>(), p["task_p999_s"].get<double>()) << p;
    EXPECT_LE(p["task_p999_s"].get<double>(), p["task_max_s"].get<double>()) << p;
  }
  EXPECT_EQ(distributed, 2);
  EXPECT_NE(j["cpu_covers"].get<std::string>().find("distributed points: the client's process, the Redis broker"),
            std::string::npos)
      << j["cpu_covers"];
  EXPECT_EQ(j["distributed_output_equal_bytes"], 96 * 72 * 3);  // the raw RGB image, byte for byte
  EXPECT_NE(job.log().find("the distributed output equals the local one (20736 bytes)"), std::string::npos)
      << job.log();
  const auto saved = nlohmann::json::parse(slurp(report + "/results.json"));
  EXPECT_EQ(saved["points"], j["points"]);
}

// With no local point, a serial run made after the sweep is the reference.
TEST(CliScaleDistributed, AloneItIsHeldToASerialRun) {
  temp_dir tmp("dsweep-alone-tmp");
  background_process job(
      sweep_command(tmp, "--json scale mandelbrot --executors distributed --workers 2 --sizes 40 --repeat 1"),
      "dsweep-alone");
  const pid_t group = job.pid();
  ASSERT_TRUE(job.wait_exit(60s)) << job.log();
  ASSERT_EQ(job.exit_code(), 0) << job.log();
  EXPECT_FALSE(group_alive(group));
  const auto j = nlohmann::json::parse(job.out());
  ASSERT_EQ(j["points"].size(), 1u);
  EXPECT_EQ(j["distributed_output_equal_bytes"], 40 * 30 * 3);
}

// primes has a distributed form too: batches of numbers as scalekit.run tasks.
TEST(CliScaleDistributed, PrimesSweepsOnTheFleet) {
  temp_dir tmp("dsweep-primes-tmp");
  background_process job(sweep_command(tmp,
                                       "--json scale primes --executors threads,distributed --workers 2 --sizes 300 "
                                       "--repeat 1 --seed 2"),
                         "dsweep-primes");
  const pid_t group = job.pid();
  ASSERT_TRUE(job.wait_exit(60s)) << job.log();
  ASSERT_EQ(job.exit_code(), 0) << job.log();
  EXPECT_FALSE(group_alive(group));
  const auto j = nlohmann::json::parse(job.out());
  ASSERT_EQ(j["points"].size(), 2u);
  for (const auto& p : j["points"]) {
    EXPECT_EQ(p["unit"], "numbers") << p;
    EXPECT_GT(p["throughput"].get<double>(), 0) << p;
    EXPECT_GT(p["tasks"].get<int>(), 0) << p;
    EXPECT_LE(p["task_p50_s"].get<double>(), p["task_max_s"].get<double>()) << p;
  }
  EXPECT_EQ(j["points"][1]["executor"], "distributed");
}

// SIGINT mid-sweep, to the sweep alone (a script's kill) and to its whole
// group (a terminal's Ctrl-C, which reaches the servers too): the sweep ends
// promptly with 128 + SIGINT, and nothing of it is left.
TEST(CliScaleDistributed, SigintMidSweepStopsTheFleet) {
  for (const bool whole_group : {false, true}) {
    temp_dir tmp("dsweep-int-tmp");
    background_process job(sweep_command(tmp,
                                         "scale mandelbrot --executors distributed --workers 1,2 --sizes 4096 "
                                         "--repeat 20"),
                           "dsweep-int");
    const pid_t group = job.pid();
    bool consuming = false;
    for (int i = 0; i < 3000 && !consuming; ++i) {
      consuming = some_worker_consumes(tmp);
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(consuming) << job.log();
    std::this_thread::sleep_for(300ms);  // the client is publishing or the workers computing
    ::kill(whole_group ? -group : group, SIGINT);
    ASSERT_TRUE(job.wait_exit(20s)) << job.log();
    EXPECT_EQ(job.exit_code(), 128 + SIGINT) << job.log();
    for (int i = 0; i < 100 && group_alive(group); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(group_alive(group)) << "a redis-server or worker outlived the sweep (whole group: " << whole_group
                                     << ")";
    EXPECT_TRUE(fs::is_empty(tmp.path)) << "the scratch directory was left";
  }
}

// A fleet that cannot start (no redis-server on PATH) fails the sweep with a
// clear error, and leaves nothing running.
TEST(CliScaleDistributed, AFleetThatCannotStartFailsTheSweepCleanly) {
  temp_dir tmp("dsweep-fail-tmp");
  background_process job("env PATH=/nonexistent TMPDIR=" + tmp.path.string() + " " + bin +
                             " scale mandelbrot --executors serial,distributed --workers 1 --sizes 40 --repeat 1",
                         "dsweep-fail");
  const pid_t group = job.pid();
  ASSERT_TRUE(job.wait_exit(60s)) << job.log();
  EXPECT_EQ(job.exit_code(), 1) << job.log();
  EXPECT_NE(job.log().find("the distributed fleet did not start"), std::string::npos) << job.log();
  EXPECT_FALSE(group_alive(group));
  EXPECT_TRUE(fs::is_empty(tmp.path));
}
