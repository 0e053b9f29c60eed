// One run of a distributed workload on the emulated hosts (hosts_run.h).

#include "hosts_run.h"

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace scalekit::scale::hosts_detail {

namespace {

using clock = std::chrono::steady_clock;

double since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }

// The last line of a --json command's stdout, parsed; null when there is none.
nlohmann::json last_json(const std::string& path) {
  std::istringstream in(read_bytes(path));
  nlohmann::json j;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') j = nlohmann::json::parse(line, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

result<std::vector<pid_t>> runner::start_workers(int hosts, bool log_last) {
  std::vector<pid_t> pids;
  for (int i = 1; i <= hosts; ++i) {
    const auto& h = tb_.host(i);
    // One task at a time and one reserved: a host is one slot, and a lost
    // host holds as little as it can. Threads: no process pool to fork.
    std::vector<std::string> argv{exe_,
                                  "--json",
                                  "worker",
                                  "--broker",
                                  url_,
                                  "--pool",
                                  "threads",
                                  "-c",
                                  "1",
                                  "--prefetch-multiplier",
                                  "1",
                                  "--visibility-timeout",
                                  fmt::format("{}", visibility_s_),
                                  "--grace",
                                  "1",
                                  "--result-expires",
                                  "600",
                                  "--without-mingle",
                                  "-n",
                                  h.name + "@" + tb_.run_id()};
    if (log_last && i == hosts) argv.insert(argv.end(), {"--loglevel", "info"});
    auto pid = tb_.spawn(h, argv, file(h.name + ".out"), file(h.name + ".err"));
    if (!pid.ok()) return pid.error();
    pids.push_back(*pid);
  }
  // Ready when each has said it is consuming.
  const auto start = clock::now();
  for (int i = 1; i <= hosts; ++i) {
    while (read_bytes(file(tb_.host(i).name + ".err")).find("consuming") == std::string::npos) {
      if (obs_.stop_requested()) return status::cancelled("stopped");
      if (wait_child(pids[static_cast<std::size_t>(i - 1)], 0) != -1 || since(start) > 30)
        return status::task_failed(fmt::format("the worker of {} did not start: {}", tb_.host(i).name,
                                               read_bytes(file(tb_.host(i).name + ".err"))));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return pids;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> runner::stop_workers(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) ::kill(p, SIGTERM);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> counts;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (wait_child(pids[i], 10) == -1) {
      ::kill(pids[i], SIGKILL);
      (void)wait_child(pids[i], 5);
    }
    const auto j = last_json(file(tb_.host(static_cast<int>(i) + 1).name + ".out"));
    counts.emplace_back(j.value("succeeded", std::uint64_t{0}), j.value("restored", std::uint64_t{0}));
  }
  return counts;
}

status runner::flush_broker() {
  auto pid = tb_.spawn(tb_.client(), {find_program("redis-cli"), "-h", tb_.broker().ip, "-p", "6379", "flushall"},
                       file("flush.out"), file("flush.err"));
  if (!pid.ok()) return pid.error();
  const int st = wait_child(*pid, 30);
  if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
      read_bytes(file("flush.out")).find("OK") == std::string::npos)
    return status::task_failed("cannot empty the broker: " + read_bytes(file("flush.err")));
  return {};
}

result<run_result> runner::run(const workload_spec& w, int hosts, bool partition) {
  ++seq_;
  if (obs_.stop_requested()) return status::cancelled("stopped");
  auto workers = start_workers(hosts, partition);
  if (!workers.ok()) return workers.error();
  run_result r;
  r.hosts = hosts;
  const double broker0 = tb_.cpu_seconds(tb_.broker()), client0 = tb_.cpu_seconds(tb_.client());
  const auto image = file(w.name + ".png");
  const auto start = clock::now();
  auto client =
      tb_.spawn(tb_.client(),
                {exe_, "--json", "mandelbrot", "-W", std::to_string(w.width), "-H", std::to_string(w.height), "-n",
                 std::to_string(w.iterations), "--executor", "distributed", "--broker", url_, "-o", image},
                file("client.out"), file("client.err"));
  if (!client.ok()) {
    (void)stop_workers(*workers);
    return client.error();
  }
  int st = -1;
  bool down = false;
  // Polled every 5 ms: the partition's trigger is a line in a log.
  status failed;
  while ((st = wait_child(*client, 0.005)) == -1) {
    if (obs_.stop_requested()) break;
    if (::kill(broker_, 0) != 0 || wait_child(broker_, 0) != -1) {
      failed = status::task_failed(fmt::format("{} on {} hosts: the broker died (out of its {}? see the kernel's log)",
                                               w.name, hosts, "memory limit"));
      break;
    }
    if (since(start) > 1800) {
      failed = status::task_failed(fmt::format("{} on {} hosts: no end after 30 minutes", w.name, hosts));
      break;
    }
    if (partition && !down && read_bytes(file(tb_.host(hosts).name + ".err")).find(" received") != std::string::npos) {
      if (auto s = tb_.set_link(tb_.host(hosts), false); !s.ok()) {
        ::kill(*client, SIGKILL);
        (void)wait_child(*client, 5);
        (void)stop_workers(*workers);
        return s;
      }
      down = true;
      r.down_at_s = since(start);
    }
  }
  r.wall_s = since(start);
  if (st == -1) {  // stopped
    ::kill(*client, SIGKILL);
    (void)wait_child(*client, 5);
  }
  if (down) (void)tb_.set_link(tb_.host(hosts), true);  // so that its worker can say what it did
  r.broker_cpu_s = tb_.cpu_seconds(tb_.broker()) - broker0;
  r.client_cpu_s = tb_.cpu_seconds(tb_.client()) - client0;
  for (const auto& [ok, restored] : stop_workers(*workers)) {
    r.tasks_per_host.push_back(ok);
    r.restored += restored;
  }
  if (down) r.down_host_tasks = r.tasks_per_host.back();
  if (!failed.ok()) return failed;
  if (st == -1) return status::cancelled("stopped");
  if (auto f = flush_broker(); !f.ok()) return f;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return status::task_failed(fmt::format("{} on {} hosts: the client failed (wait status {}): {}", w.name, hosts, st,
                                           read_bytes(file("client.err"))));
  const auto j = last_json(file("client.out"));
  r.job_s = j.value("elapsed_s", r.wall_s);
  r.throughput = r.job_s > 0 ? w.height / r.job_s : 0;
  r.image_exact = read_bytes(image) == w.reference;
  if (!keep_dir_.empty()) {
    std::error_code ec;  // a copy that fails leaves no image: the test of it fails, the run does not
    std::filesystem::copy_file(image, keep_dir_ + "/" + w.name + ".png",
                               std::filesystem::copy_options::overwrite_existing, ec);
  }
  std::remove(image.c_str());
  return r;
}

}  // namespace scalekit::scale::hosts_detail
