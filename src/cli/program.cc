// The program both executables run: tasks, worker mode, the hand-over to
// scalekit-heavy or scalekit-serve (hand_over.cc), the stop signals, the
// command line (its unsigned options, unknown commands and usage errors in
// option_checks.cc).

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "program_detail.h"
#include "runner.h"
#include "scalekit/core/job.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/core/signals.h"

namespace scalekit::cli {

namespace {

std::vector<command_impl>& implementations() {
  static std::vector<command_impl> all;
  return all;
}

std::vector<std::string>& arguments() {
  static std::vector<std::string> all;
  return all;
}

void setup_app(CLI::App& app) {
  app.description(
      "scalekit: the scalable programs of the seed chapters, built for real and measured.\n"
      "Results go to stdout, logs and progress to stderr. Exit status: 0 ok, 1 failed job, 2 bad usage,\n"
      "128+N after signal N (SIGINT, SIGTERM, SIGHUP: a clean stop; a second one stops at once),\n"
      "141 when stdout is a closed pipe (the job stops at the first failed write).");
  app.name("scalekit");
  app.set_version_flag("--version", "scalekit " SCALEKIT_VERSION);
  app.require_subcommand(1);
  app.add_flag("--json", globals().json, "print a machine-readable summary on stdout");
  app.add_flag("-q,--quiet", globals().quiet, "no progress or summary on stderr");
  app.add_flag_callback(
      "-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); }, "debug logging on stderr");
  app.fallthrough();  // global flags work after the subcommand too
}

int parse_and_run(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    // CLI11's words for a one-value option given twice ("-w 1 -w 2").
    constexpr std::string_view twice = "At Most 1 required but received ";
    if (const auto at = what.find(twice); at != std::string::npos) what = what.substr(0, at) + "given more than once";
    usage_error_line(argc, argv, what + " (see --help)");
    return exit_usage;
  }
  return globals().exit_code;
}

}  // namespace

command_registration::command_registration(command_impl impl) { implementations().push_back(impl); }

std::span<const command_impl> registered_commands() { return implementations(); }

const std::vector<std::string>& program_arguments() { return arguments(); }

int run_program(binary self, int argc, char** argv) {
  // Worker processes are re-executions of this binary: every task any of its
  // commands sends must be known before anything else runs.
  for (const auto& impl : implementations())
    if (impl.register_tasks != nullptr) impl.register_tasks();
  if (auto rc = core::run_worker_if_requested(argc, argv)) return *rc;
  if (self == binary::light) {
    if (auto rc = hand_over_command(argc, argv)) return *rc;
  }
  for (int i = 0; i < argc; ++i) arguments().emplace_back(argv[i]);
  remember_signal_mask();
  // Before any thread starts. serve's master gives more signals meanings
  // (HUP reloads, TTIN adds a worker...), and its workers ignore the
  // terminal's Ctrl-C: the master decides. Its signals are its interface: it
  // owns them even when whoever started it ignored some (a background job of
  // a non-interactive shell ignores INT and QUIT).
  auto& signals = self == binary::serve
                      ? core::stop_signals::install({SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU},
                                                    core::inherited_ignores::override)
                      : core::stop_signals::install();
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error to report, not a silent death
  spdlog::set_default_logger(spdlog::stderr_color_mt("scalekit"));
  spdlog::set_pattern("scalekit: %^%l%$: %v");

  for (const auto& impl : implementations()) {
    if (find_command(impl.name) == nullptr) {
      std::fprintf(stderr, "scalekit: internal error: command '%.*s' is built in but not in the table\n",
                   static_cast<int>(impl.name.size()), impl.name.data());
      return exit_failed;
    }
  }
  CLI::App app;
  setup_app(app);
  // Only the command named on the command line gets its flags: a list of
  // commands (--help) needs their names and descriptions only, and building
  // every command's options was most of what this program did before main's
  // work began.
  const int named = command_argument(argc, argv);
  const std::string_view invoked = named < argc ? argv[named] : "";
  for (const auto& c : command_table) {
    auto* cmd = app.add_subcommand(std::string(c.name), std::string(c.description));
    if (c.where != self && !(c.heavy_too && self == binary::heavy)) continue;  // run by the other executable
    const auto impl = std::find_if(implementations().begin(), implementations().end(),
                                   [&](const command_impl& i) { return i.name == c.name; });
    if (impl == implementations().end()) {
      std::fprintf(stderr, "scalekit: internal error: command '%.*s' is in the table but not built in\n",
                   static_cast<int>(c.name.size()), c.name.data());
      return exit_failed;
    }
    if (c.name == invoked) impl->add(*cmd);
  }
  refuse_bad_unsigned(app);
  refuse_nan(app);
  if (!is_known_command(argc, argv)) return exit_usage;
  const int rc = parse_and_run(app, argc, argv);
  if (globals().stopped_by_signal) signals.exit_if_signalled();
  return rc;
}

}  // namespace scalekit::cli
