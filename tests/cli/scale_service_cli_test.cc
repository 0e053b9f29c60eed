// Integration tests of `scalekit scale SERVICE`: short sweeps of the real
// servers under open-loop load, their results.json and report files; a server
// that dies mid-run (its requests count as errors) and a sweep stopped with
// SIGINT (the server goes with it). No timing is asserted beyond generous
// bounds for promptness; the loads are far below what any server here serves.

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"
#include "server_process.h"

using scalekit::testing::background_process;
using scalekit::testing::bin;
using scalekit::testing::eventually;
using scalekit::testing::run_scalekit;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;
using json = nlohmann::json;

namespace {

// Every figure of a short sweep of `workload` at N = 1, 2 that does not
// depend on the machine's speed. Steps of a second: a step counts the answers
// that came within it, so a pause of 100 ms on a loaded machine must not make
// 100 requests/s look unsustained (0.4 s steps failed once beside builds).
// Under a sanitizer half the rates: the load generator is sanitized too, and
// beside other tests it once kept no step of 100 a second (72 reached).
void check_sweep(const std::string& workload, const std::string& size) {
  temp_dir dir("svc-" + workload);
  const std::string report = dir / "report";
  const std::string rates = scalekit::testing::sanitized ? "--start-rate 50 --rate-factor 2 --max-rate 100 "
                                                         : "--start-rate 100 --rate-factor 2 --max-rate 200 ";
  auto r = run_scalekit("--json scale " + workload + " --workers 1,2 --arrival constant " + rates +
                        "--step 1 --seed 7 --sizes " + size + " --report " + report);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["workload"], workload);
  EXPECT_EQ(j["arrival"], "constant");
  ASSERT_EQ(j["points"].size(), 2u);
  ASSERT_EQ(j["latency"].size(), 2u);
  for (const auto& p : j["points"]) {
    EXPECT_EQ(p["unit"], "requests") << p;
    EXPECT_GT(p["throughput"].get<double>(), 0) << p;  // the saturation throughput: here the largest rate offered
  }
  for (const auto& l : j["latency"]) {
    // Every N sustained the low rates, unless its generator could not keep the
    // schedule (as a step says below: a sanitizer build beside other tests).
    if (scalekit::testing::sanitized && l["generator_bound"] == true && l["latency_p50_s"].is_null()) continue;
    ASSERT_TRUE(l["latency_p50_s"].is_number()) << l;
    const double p50 = l["latency_p50_s"], p99 = l["latency_p99_s"], p999 = l["latency_p999_s"],
                 max = l["latency_max_s"];
    EXPECT_GT(p50, 0) << l;
    EXPECT_LE(p50, p99) << l;
    EXPECT_LE(p99, p999) << l;
    EXPECT_LE(p999, max) << l;
  }
  // Two steps per N (100/s, then 200/s: the --max-rate; halved under a sanitizer), each with every figure.
  std::map<int, int> steps_of;
  for (const auto& s : j["load_steps"]) {
    ++steps_of[s["workers"].get<int>()];
    EXPECT_EQ(s["errors"], 0) << s;
    EXPECT_EQ(s["timeouts"], 0) << s;
    EXPECT_EQ(s["sent"], s["ok"]) << s;
    if (s["ok"].get<double>() > 0) {
      EXPECT_LE(s["latency_p50_s"].get<double>(), s["latency_p99_s"].get<double>()) << s;
      EXPECT_LE(s["latency_p99_s"].get<double>(), s["latency_p999_s"].get<double>()) << s;
      EXPECT_LE(s["latency_p999_s"].get<double>(), s["latency_max_s"].get<double>()) << s;
    }
    EXPECT_GE(s["voluntary_switches"].get<double>() + s["involuntary_switches"].get<double>(), 0) << s;
    EXPECT_GT(s["server_cpu_s_per_request"].get<double>(), 0) << s;
    // worker's Redis broker is counted apart from the server's tree; the others have none (null).
    if (workload == "worker") {
      EXPECT_GT(s["broker_cpu_s_per_request"].get<double>(), 0) << s;
    } else {
      EXPECT_TRUE(s["broker_cpu_s_per_request"].is_null()) << s;
    }
    EXPECT_GE(s["generator_cpu"].get<double>(), 0) << s;
    // Low load: all but the last few answers come within the step, unless the
    // step says its generator could not keep its schedule (a sanitizer build
    // beside other tests): then the rate it reached is the generator's.
    if (!s["generator_bound"].get<bool>()) {
      EXPECT_NEAR(s["achieved"].get<double>(), s["offered"].get<double>(), 0.1 * s["offered"].get<double>()) << s;
    }
  }
  EXPECT_EQ(steps_of[1], 2);
  EXPECT_EQ(steps_of[2], 2);
  EXPECT_FALSE(j["cpu_covers"].get<std::string>().empty());
  if (workload == "worker") {
    EXPECT_NE(j["cpu_covers"].get<std::string>().find("Redis broker's CPU is counted apart"), std::string::npos);
    EXPECT_GT(j["latency"][0]["broker_cpu_s_per_request"].get<double>(), 0);
  }
  for (const std::string& f :
       std::vector<std::string>{"results.json", "results.csv", "report.html", "charts/latency-" + size + ".svg",
                                "charts/hockey-" + size + ".svg", "charts/throughput-" + size + ".svg"})
    EXPECT_TRUE(std::filesystem::exists(report + "/" + f)) << f;
  const std::string csv = slurp(report + "/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;  // a header and four steps
  const std::string html = slurp(report + "/report.html");
  EXPECT_NE(html.find("id=\"latency\""), std::string::npos);
  EXPECT_NE(html.find("class=\"hockey\""), std::string::npos);
}

// The processes `pid` started (its threads' children), now.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::istringstream in(slurp(t.path() / "children"));
    for (pid_t c; in >> c;) out.push_back(c);
  }
  return out;
}

// Ended: no such process, or a zombie (reparented orphans may wait for a reaper).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || stat.compare(close + 2, 1, "Z") == 0;
}

// The server the sweep `pid` started, once it has: 0 after 20 s without one.
pid_t wait_for_server(pid_t pid) {
  for (int i = 0; i < 400; ++i) {
    for (const pid_t c : children_of(pid))
      if (slurp("/proc/" + std::to_string(c) + "/cmdline").find("sort-service") != std::string::npos) return c;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// Until the sweep's server says it listens (its stderr is the sweep's log file
// for it): a sanitizer build on a loaded machine may take longer to start
// than the test's fixed wait, and the sweep then ends with "ended before it
// was ready", not with the errors of a server that died mid-run. Its stderr is
// looked up at each look: wait_for_server may find the child between fork and
// exec (its command line is then the sweep's, which names sort-service too),
// when its stderr is still the sweep's own.
bool wait_until_listening(pid_t server) {
  return eventually([&] {
    std::error_code ec;
    const auto log = std::filesystem::read_symlink("/proc/" + std::to_string(server) + "/fd/2", ec);
    return !ec && slurp(log.string()).find("listening on") != std::string::npos;
  });
}

}  // namespace

TEST(CliScaleService, SortServiceShortSweep) { check_sweep("sort-service", "100"); }

TEST(CliScaleService, DnsShortSweep) { check_sweep("dns", "4"); }

TEST(CliScaleService, ServeShortSweep) { check_sweep("serve", "16"); }

// A private redis-server and `scalekit worker -c N`, loaded through the distributed executor.
TEST(CliScaleService, WorkerShortSweep) { check_sweep("worker", "100"); }

// Six distinct N by default: the fewest the models are fitted from, so a
// default sweep gets a fit (its run time: docs/scale.md).
TEST(CliScaleService, TheDefaultWorkersGiveTheModelsSixN) {
  auto r = run_scalekit("scale sort-service --help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1,2,3,4,5,6"), std::string::npos) << r.out;
}

TEST(CliScaleService, HelpSaysHowSaturationIsFound) {
  auto r = run_scalekit("scale sort-service --help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("open-loop"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("saturation throughput"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--arrival"), std::string::npos) << r.out;
  auto bad = run_scalekit("scale dns --arrival bursty");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("poisson or constant"), std::string::npos) << bad.err;
}

TEST(CliScaleService, AServerThatDiesMidRunCountsErrors) {
  temp_dir dir("svc-kill");
  const std::string report = dir / "report";
  background_process sweep(bin +
                               " --json scale sort-service --workers 1 --arrival constant --start-rate 200 --max-rate "
                               "200 --step 2 --timeout 0.5 --sizes 10 --report " +
                               report,
                           "svc-kill-run");
  const pid_t server = wait_for_server(sweep.pid());
  ASSERT_GT(server, 0) << sweep.log();
  ASSERT_TRUE(wait_until_listening(server)) << sweep.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // requests answered before the kill
  const auto workers = children_of(server);
  ::kill(server, SIGKILL);
  for (const pid_t w : workers) ::kill(w, SIGKILL);
  ASSERT_TRUE(sweep.wait_exit(std::chrono::seconds(30))) << sweep.log();
  ASSERT_EQ(sweep.exit_code(), 0) << sweep.log();
  EXPECT_NE(sweep.log().find("ended during the run"), std::string::npos) << sweep.log();
  const auto j = json::parse(slurp(report + "/results.json"));
  ASSERT_EQ(j["load_steps"].size(), 1u);
  const auto& s = j["load_steps"][0];
  EXPECT_GT(s["ok"].get<int>(), 0) << s;                                 // before the kill
  EXPECT_GT(s["errors"].get<int>() + s["timeouts"].get<int>(), 0) << s;  // after it
  EXPECT_EQ(s["ok"].get<int>() + s["errors"].get<int>() + s["timeouts"].get<int>(), s["sent"].get<int>()) << s;
  EXPECT_TRUE(s["saturated"].get<bool>()) << s;
}

TEST(CliScaleService, SigintStopsTheSweepAndItsServer) {
  background_process sweep(bin + " scale sort-service --workers 1 --start-rate 50 --max-rate 50 --step 30 --sizes 10",
                           "svc-int");
  const pid_t server = wait_for_server(sweep.pid());
  ASSERT_GT(server, 0) << sweep.log();
  const auto workers = children_of(server);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(sweep.pid(), SIGINT);
  // promptly: well before the 30 s step would end
  ASSERT_TRUE(sweep.wait_exit(std::chrono::seconds(10))) << "the sweep did not stop on SIGINT";
  EXPECT_NE(sweep.exit_code(), 0) << sweep.log();
  for (int i = 0; i < 250 && !gone(server); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(gone(server)) << "the server outlived the sweep";
  for (const pid_t w : workers) {
    for (int i = 0; i < 250 && !gone(w); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(gone(w)) << "a server worker outlived the sweep";
  }
}
