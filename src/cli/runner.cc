#include "runner.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <optional>

namespace scalekit::cli {

global_options& globals() {
  static global_options g;
  return g;
}

endpoint parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw usage_error("'" + text + "': expected HOST:PORT");
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    throw usage_error("'" + text + "': bad port");
  return {text.substr(0, colon), static_cast<std::uint16_t>(std::stoul(port))};
}

void print_error(std::string_view job, std::string_view message) {
  std::fprintf(stderr, "scalekit %.*s: %.*s\n", static_cast<int>(job.size()), job.data(),
               static_cast<int>(message.size()), message.data());
}

namespace {

// --json for a job that gave no report: its name and the one-line error.
std::string error_object(const std::string& job, std::string_view message) {
  std::string out = "{\"job\":";
  core::append_json_string(out, job);
  out += ",\"error\":";
  core::append_json_string(out, message);
  out += '}';
  return out;
}

// stdout failed: the job was stopped, its results lost. A closed pipe is
// how a reader says it has seen enough (`| head -1`): quiet, as Unix tools.
void fail_on_write_error(const std::string& job, int error) {
  globals().stopped_by_signal = false;  // the program stopped it, not a signal
  if (error == EPIPE) {
    globals().exit_code = exit_broken_pipe;
    return;
  }
  print_error(job, std::string("cannot write to standard output: ") + std::strerror(error));
  globals().exit_code = exit_failed;
}

}  // namespace

void run_job(const std::string& job, const job_body& body) {
  int& exit_code = globals().exit_code;
  std::optional<terminal_observer> obs;
  // One line on stderr, and under --json the document's end.
  const auto fail = [&](std::string_view message, int code) {
    print_error(job, message);
    if (globals().json && obs) obs->close_json(error_object(job, message));
    exit_code = code;
  };
  try {
    obs.emplace(job);
    result<core::report> r = body(*obs);
    obs->finish();
    if (const int error = obs->write_error(); error != 0) return fail_on_write_error(job, error);
    if (!r.ok()) {
      const status& s = r.error();
      if (s.code() == status_code::cancelled && obs->stop_requested()) {
        exit_code = exit_failed;  // when no signal asked (a stop requested by the program)
        globals().stopped_by_signal = true;
        if (globals().json) obs->close_json(error_object(job, "stopped: " + s.message()));
        return;
      }
      fail(s.message(), s.code() == status_code::invalid_argument ? exit_usage : exit_failed);
      return;
    }
    const core::report& rep = r.value();
    if (!globals().quiet) std::fprintf(stderr, "%s\n", rep.summary_line().c_str());
    if (globals().json) obs->close_json(rep.to_json());
    obs->finish();
    exit_code = rep.failures > 0 ? exit_failed : exit_ok;
    if (const int error = obs->write_error(); error != 0) fail_on_write_error(job, error);
  } catch (const usage_error& e) {
    fail(e.what(), exit_usage);
  } catch (const std::exception& e) {
    fail(e.what(), exit_failed);
  }
}

}  // namespace scalekit::cli
