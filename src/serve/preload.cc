// --preload: the --wsgi apps imported once, in a process of their own, before
// workers start (at the start and at each HUP). The master embeds no Python
// and workers are never forked from a process that runs threads, so nothing
// imported here is shared with the workers: what --preload buys is that a
// broken app is found once, with its error, instead of by workers dying one
// after another (docs/DESIGN.md, "serve: --preload").

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "scalekit/core/spawn.h"
#include "serve_detail.h"
#include "worker_detail.h"

extern char** environ;

namespace scalekit::serve {

namespace {

constexpr const char* check_env_name = "SCALEKIT_SERVE_CHECK_APPS";

}  // namespace

result<int> spawn_app_check(const options& o) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);  // stderr stays: the app's error goes there
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  const core::spawn_attributes attr;  // no signal blocked, each one's default action
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back(std::string(check_env_name) + "=1");
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = o.self_argv;
  args[0] = app_check_process_title;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, attr.get(), argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return status::io_error(std::string("--preload: cannot start the check: ") + std::strerror(rc));
  return static_cast<int>(pid);
}

status check_apps(const options& o) {
  auto pid = spawn_app_check(o);
  if (!pid.ok()) return pid.error();
  int st = 0;
  while (::waitpid(*pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return status();
  return status::invalid_argument("--preload: the WSGI apps cannot be loaded (the error is above): not starting");
}

std::optional<result<core::report>> run_app_check_if_started(const options& o, core::observer& obs) {
  if (std::getenv(check_env_name) == nullptr) return std::nullopt;
  ::unsetenv(check_env_name);
  name_this_process("serve app check");
  auto apps = wsgi_apps::start(o, obs, nullptr);
  if (!apps.ok()) return result<core::report>(apps.error());
  core::report r("serve --preload check");
  r.items = static_cast<double>(o.apps.size());
  r.unit = "apps";
  return result<core::report>(std::move(r));
}

}  // namespace scalekit::serve
