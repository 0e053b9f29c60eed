// A sweep point on the distributed executor (distributed_point.h).

#include "distributed_point.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "fleet.h"

namespace scalekit::scale {

namespace {

namespace fs = std::filesystem;

std::string read_whole(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

result<point_sample> measure_distributed(const workload& w, const sweep_point& p, const std::string& dir,
                                         const std::function<bool()>& tick, const core::observer& obs) {
  const std::string logs = dir + "/fleet";
  std::error_code ec;
  fs::create_directories(logs, ec);
  if (ec) return status::io_error(fmt::format("cannot make '{}': {}", logs, ec.message()));
  fleet f;
  if (auto st = f.start("/proc/self/exe", p.workers, logs, obs); !st.ok()) {
    if (st.code() == status_code::cancelled || (tick && tick())) return status::cancelled("the sweep was stopped");
    return status::task_failed("the distributed fleet did not start: " + st.message());
  }
  workload client = w;
  client.run = nullptr;
  client.command = [&w, broker = f.broker()](std::uint64_t size, const std::string& d, const sweep_point& q) {
    return w.distributed(size, d, q, broker);
  };
  const auto cpu0 = f.cpu();
  auto s = measure_point(client, p, dir, tick);
  const auto cpu1 = f.cpu();
  if (!s.ok()) return s;
  // Every result is in, so every task's "succeeded" line is logged: the
  // bodies' run times on the workers, which the client cannot see.
  if (s->tasks.tasks == 0 || std::isnan(s->tasks.p50)) s->tasks = f.tasks();
  s->user_s += cpu1.user_s - cpu0.user_s;
  s->sys_s += cpu1.sys_s - cpu0.sys_s;
  s->peak_pss_kib += f.pss_kib();
  return s;
}

result<std::uint64_t> check_distributed_output(const workload& w, std::uint64_t size, const std::string& dir) {
  const std::string local = dir + "/" + std::string(w.output);
  const std::string remote = dir + "/distributed-" + std::string(w.output);
  if (!fs::exists(local)) {  // no local point at this size: a serial run makes the reference
    auto s = measure_point(w, {core::executor_kind::serial, 1, size}, dir, nullptr);
    if (!s.ok()) return s.error();
  }
  bool have_local = false, have_remote = false;
  const std::string a = read_whole(local, have_local), b = read_whole(remote, have_remote);
  if (!have_local || !have_remote)
    return status::task_failed(fmt::format("{} at {} {}: no output to compare ('{}')", w.name, w.size_name, size,
                                           have_local ? remote : local));
  if (a != b)
    return status::task_failed(
        fmt::format("{} at {} {}: the distributed output ({} bytes) differs from the local executors' ({} bytes)",
                    w.name, w.size_name, size, b.size(), a.size()));
  return static_cast<std::uint64_t>(a.size());
}

}  // namespace scalekit::scale
