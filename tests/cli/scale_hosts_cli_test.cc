// Integration tests of `scalekit scale hosts`: a tiny run on 1..3 emulated
// hosts (network namespaces and cgroups, so root), its JSON, its images, and
// that nothing of it is left behind, also when it is interrupted. No timing is
// asserted.

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "server_process.h"

using scalekit::testing::background_process;
using scalekit::testing::run_command;
using scalekit::testing::run_scalekit;
using scalekit::testing::slurp;
using scalekit::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

// Why this machine cannot run the emulation, or "".
std::string cannot_emulate() {
  if (::geteuid() != 0) return "needs root (network namespaces, cgroups)";
  const std::string probe = "skprobe" + std::to_string(::getpid());
  if (run_command("ip netns add " + probe + " 2>&1").exit_code != 0) return "'ip netns add' fails here";
  run_command("ip netns del " + probe);
  return "";
}

// What a run with this id left behind: namespaces, cgroup directories, processes.
std::string leftovers(const std::string& run_id) {
  std::string left;
  std::error_code ec;  // no /run/netns: no namespace at all
  for (const auto& e : fs::directory_iterator("/run/netns", ec))
    if (e.path().filename().string().rfind(run_id + "-", 0) == 0) left += "netns " + e.path().string() + "\n";
  const std::string pid = run_id.substr(2);
  for (const char* h : {"cpu", "cpuacct", "memory", ""})
    if (fs::exists(fs::path("/sys/fs/cgroup") / h / ("scalekit-hosts-" + pid)))
      left += std::string("cgroup in ") + h + "\n";
  for (const auto& e : fs::directory_iterator("/proc")) {
    const auto cmd = slurp((e.path() / "cmdline").string());
    if (cmd.find("@" + run_id) != std::string::npos) left += "process " + e.path().filename().string() + "\n";
  }
  return left;
}

}  // namespace

TEST(CliScaleHosts, ThreeHostsServeExactImagesAndLeaveNothing) {
  if (const auto why = cannot_emulate(); !why.empty()) GTEST_SKIP() << why;
  temp_dir dir("hosts");
  const std::string report = dir / "report";
  // 0.5 CPU a host, so that three fit beside the broker and client on a small machine; rows deep
  // enough (n=20000) that no host can miss the job while it starts; 1 GiB,
  // so that a sanitizer build's quarantine and shadow fit too.
  auto r = run_scalekit(
      "--json scale hosts --hosts 3 --fit-hosts 2 --repeat 1 --host-cpu 0.5 --memory 1024 -W 320 -H 240 -n 20000 "
      "--tiny-tasks 1000 --report " +
      report);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;  // stdout: the table (a wrong image, no link cut, leftovers)
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["job"], "scale hosts");
  const auto run_id = j["run_id"].get<std::string>();
  ASSERT_EQ(run_id.rfind("sk", 0), 0u) << run_id;
  EXPECT_NE(r.err.find("within ±25%"), std::string::npos) << r.err;  // the tolerance, stated first

  ASSERT_EQ(j["workloads"].size(), 2u);
  for (const auto& w : j["workloads"]) {
    ASSERT_EQ(w["points"].size(), 3u) << w;
    for (const auto& p : w["points"]) {
      EXPECT_TRUE(p["image_exact"].get<bool>()) << p;
      EXPECT_GT(p["throughput"].get<double>(), 0) << p;
      ASSERT_EQ(p["tasks_per_host"].size(), p["hosts"].get<std::size_t>()) << p;
      for (const auto& h : p["tasks_per_host"]) EXPECT_GT(h["tasks"].get<std::uint64_t>(), 0u) << w["name"] << p;
    }
    ASSERT_TRUE(w.contains("fit")) << w;
    EXPECT_GT(w["fit"][0]["lambda"].get<double>(), 0) << w;
    ASSERT_EQ(w["predictions"].size(), 1u) << w;
    const auto& pred = w["predictions"][0];
    EXPECT_EQ(pred["hosts"], 3);
    EXPECT_GT(pred["predicted"].get<double>(), 0) << pred;
    EXPECT_GE(pred["error"].get<double>(), 0) << pred;
    EXPECT_TRUE(pred["within_tolerance"].is_boolean()) << pred;
  }
  const auto& part = j["partition"][0];
  EXPECT_TRUE(part["link_cut"].get<bool>()) << part;
  EXPECT_TRUE(part["completed"].get<bool>()) << part;
  EXPECT_TRUE(part["image_exact"].get<bool>()) << part;
  EXPECT_GE(part["recovery_s"].get<double>(), 0) << part;

  // The images equal a local run's bytes.
  for (const auto& [name, args] : {std::pair<std::string, std::string>{"mandelbrot", "-W 320 -H 240 -n 20000"},
                                   {"tiny-tasks", "-W 1 -H 1000 -n 1"}}) {
    const std::string local = dir / ("local-" + name + ".png");
    ASSERT_EQ(run_scalekit("mandelbrot " + args + " --executor serial -o " + local).exit_code, 0);
    EXPECT_EQ(slurp(report + "/" + name + ".png"), slurp(local)) << name;
  }
  EXPECT_EQ(nlohmann::json::parse(slurp(report + "/results.json"))["run_id"], run_id);
  EXPECT_EQ(j["leftovers"], "");
  EXPECT_EQ(leftovers(run_id), "");
}

TEST(CliScaleHosts, AnInterruptedRunLeavesNothing) {
  if (const auto why = cannot_emulate(); !why.empty()) GTEST_SKIP() << why;
  background_process p(scalekit::testing::bin +
                           " scale hosts --hosts 3 --fit-hosts 2 --host-cpu 0.5 --memory 1024 -W 160 -H 120",
                       "hosts-int");
  const std::string run_id = "sk" + std::to_string(p.pid());
  // Interrupted once its hosts are up and a run has started.
  ASSERT_TRUE(p.wait_for_log("emulated hosts")) << p.log();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists("/run/netns/" + run_id + "-h3") && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists("/run/netns/" + run_id + "-h3")) << p.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(p.pid(), SIGINT);
  ASSERT_TRUE(p.wait_exit(std::chrono::seconds(30))) << p.log();
  EXPECT_EQ(p.exit_code(), 128 + SIGINT) << p.log();  // stopped, not finished
  EXPECT_EQ(leftovers(run_id), "") << p.log();
}

TEST(CliScaleHosts, WithoutRootItIsOneLineAndStatus2) {
  if (::geteuid() != 0) {
    auto r = run_scalekit("scale hosts");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("needs root"), std::string::npos) << r.err;
    return;
  }
  if (run_command("setpriv --help >/dev/null 2>&1").exit_code != 0) GTEST_SKIP() << "no setpriv to drop root";
  auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + scalekit::testing::bin + " scale hosts");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "scalekit scale hosts: needs root: it makes network namespaces and cgroups (run it with sudo)\n");
  EXPECT_EQ(r.out, "");
}
