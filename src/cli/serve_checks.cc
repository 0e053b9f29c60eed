#include "serve_checks.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "runner.h"
#include "scalekit/serve/wsgi.h"
#include "scalekit/taskqueue/redis.h"

namespace scalekit::cli {

namespace {

// "/a/" and "/a" are one prefix, "" and "/" the root.
std::string plain_prefix(std::string m) {
  while (m.size() > 1 && m.back() == '/') m.pop_back();
  return m.empty() ? "/" : m;
}

}  // namespace

CLI::Validator existing_directories() {
  return CLI::Validator(
      [](std::string& list) -> std::string {
        for (std::size_t at = 0; at <= list.size();) {
          const std::size_t end = std::min(list.find(':', at), list.size());
          const std::string part = list.substr(at, end - at);
          if (!part.empty() && !std::filesystem::is_directory(part)) return "Directory does not exist: " + part;
          at = end + 1;
        }
        return "";
      },
      "DIR[:DIR...]");
}

CLI::Validator redis_url() {
  return CLI::Validator(
      [](std::string& url) -> std::string {
        auto ep = taskqueue::redis_endpoint::parse(url);
        return ep.ok() ? "" : ep.error().message();
      },
      "URL");
}

std::vector<serve::app_mount> pair_apps(const std::vector<std::string>& wsgi, const std::vector<std::string>& mounts,
                                        const std::string& order) {
  std::vector<serve::app_mount> apps;
  std::size_t w = 0, m = 0;
  bool mounted = true;
  for (const char c : order) {
    if (c == 'w') {
      apps.push_back({wsgi[w++], "/"});
      mounted = false;
      continue;
    }
    const std::string& mount = mounts[m++];
    if (apps.empty()) throw usage_error("--mount '" + mount + "' without a --wsgi app before it");
    if (mounted)
      throw usage_error("--mount '" + mount + "': the --wsgi app before it (" + apps.back().spec +
                        ") has a --mount already");
    // Else each worker refuses it at start, and the server stops with status 1 after it started.
    if (!mount.empty() && mount.front() != '/')
      throw usage_error("--mount '" + mount + "': a URL prefix starts with '/'");
    apps.back().prefix = mount;
    mounted = true;
  }
  // Else each worker refuses it at start, three die, and the server stops with status 1.
  for (const auto& app : apps)
    if (auto s = serve::wsgi::check_spec({app.spec, app.prefix}); !s.ok()) throw usage_error(s.message());
  for (std::size_t i = 0; i < apps.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (plain_prefix(apps[i].prefix) == plain_prefix(apps[j].prefix))
        throw usage_error("--wsgi " + apps[j].spec + " and --wsgi " + apps[i].spec + " are both mounted on " +
                          plain_prefix(apps[i].prefix) + " (give each its own --mount)");
  return apps;
}

std::chrono::milliseconds whole_ms(double seconds) {
  // Rounded, not up: 16.1 * 1000 is a hair over 16100 as a double.
  if (seconds <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max(1L, std::lround(seconds * 1000)));
}

namespace {

std::chrono::milliseconds wait_under_timeout(std::string_view flag, double seconds, bool given, double timeout_s,
                                             std::string_view why) {
  if (given && timeout_s > 0 && seconds >= timeout_s)
    throw usage_error(fmt::format("{} {:g} s is not under --timeout {:g} s: {}", flag, seconds, timeout_s, why));
  if (!given && timeout_s > 0) seconds = std::min(seconds, timeout_s / 2);
  return whole_ms(seconds);
}

}  // namespace

std::chrono::milliseconds broker_wait(double seconds, bool given, double timeout_s) {
  return wait_under_timeout("--broker-timeout", seconds, given, timeout_s,
                            "a broker outage would answer 504 and replace the worker instead of answering 503");
}

std::chrono::milliseconds queue_wait(double seconds, double timeout_s) {
  if (seconds <= 0) return std::chrono::milliseconds{0};  // not given, or 0: no time limit (--queue alone)
  return wait_under_timeout("--queue-wait", seconds, true, timeout_s,
                            "a request waiting that long would be answered 504, never shed");
}

void check_request_limit(std::uint64_t max_requests, std::uint64_t jitter) {
  if (jitter > std::numeric_limits<std::uint64_t>::max() - max_requests)
    throw usage_error("--max-requests-jitter: " + std::to_string(jitter) + " plus --max-requests " +
                      std::to_string(max_requests) + " is past 18446744073709551615");
}

void check_master(const serve::options& o) {
  check_request_limit(o.max_requests, o.max_requests_jitter);
  // Else the second bind fails with "Address already in use", which reads as another process holding it.
  for (std::size_t i = 0; i < o.listen.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (o.listen[i] == o.listen[j] && !o.listen[i].ends_with(":0"))
        throw usage_error("--listen " + o.listen[i] + " is given twice");
  // Else the pidfile fails after "listening on", naming its temporary file.
  if (o.pid_file.empty()) return;
  const std::filesystem::path dir = std::filesystem::path(o.pid_file).parent_path();
  std::error_code ec;
  int err = std::filesystem::is_directory(o.pid_file, ec) ? EISDIR : 0;
  if (err == 0 && ::access(dir.empty() ? "." : dir.c_str(), W_OK | X_OK) != 0) err = errno;
  if (err != 0) throw usage_error("cannot write the pidfile " + o.pid_file + ": " + std::strerror(err));
}

}  // namespace scalekit::cli
