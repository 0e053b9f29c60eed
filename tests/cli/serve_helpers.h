#pragma once
// What the integration tests of `scalekit serve` share (serve_cli_test.cc,
// serve_reload_cli_test.cc): the server under test and readings of its /status.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "cli_helpers.h"

namespace scalekit::testing {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct serve_server : server_process {
  explicit serve_server(const std::string& extra = "-w 2") : server_process(bin, "serve " + extra, "cli-serve") {}
  [[nodiscard]] std::string client_command(const std::string& args) const {
    return "/usr/bin/python3 " SCALEKIT_SEEDS_DIR "/../serve_client.py " + args;
  }
  // "STATUS\nBODY" of one request.
  [[nodiscard]] std::string get(const std::string& path, const std::string& method = "GET",
                                const std::string& body = "") const {
    return run_command(client_command("get " + port() + " '" + path + "' " + method + " '" + body + "'")).out;
  }
  [[nodiscard]] json status() const {
    const auto r = run_command(client_command("status " + port()));
    return json::parse(r.out.empty() ? "{}" : r.out);
  }
  // Poll /status until `ready` workers are ready and `pred` holds (true), or the time runs out.
  template <typename Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout = 5s) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (pred(status())) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

/// A new master (USR2) stays in the old one's process group: whatever is left
/// of it at the end of a test goes with the group.
struct kill_group_at_end {
  int group;
  ~kill_group_at_end() { ::kill(-group, SIGKILL); }
};

/// The pid of the new master a USR2 started, from the old master's log ("USR2: new master pid N").
inline int new_master_pid(const std::string& log) {
  static constexpr std::string_view said = "USR2: new master pid ";
  const auto at = log.find(said);
  return at == std::string::npos ? 0 : std::stoi(log.substr(at + said.size()));
}

/// DIR/app.py, a WSGI app answering `answer` whose import hangs for 600 s once
/// DIR/hang exists (and then makes DIR/hanging): a new master (USR2) started
/// after that never gets ready.
inline void write_hang_marker_app(const std::filesystem::path& dir, const std::string& answer) {
  std::ofstream(dir / "app.py") << "import os, time\n"
                                   "if os.path.exists('hang'): open('hanging', 'w').close(); time.sleep(600)\n"
                                   "def app(environ, start_response):\n"
                                   "    start_response('200 OK', [])\n"
                                   "    return [b'"
                                << answer << "']\n";
}

/// How many times `what` occurs in `text` (log lines, say).
inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

inline std::size_t ready_workers(const json& s) {
  std::size_t n = 0;
  for (const auto& w : s.value("workers", json::array()))
    if (w["state"] == "ready") ++n;
  return n;
}

// Whether a request for `path` is running (/status counts itself: not in_flight).
inline bool running(const json& s, const std::string& path) {
  for (const auto& w : s.value("workers", json::array()))
    for (const auto& r : w["running"])
      if (r["path"] == path) return true;
  return false;
}

inline std::string pids(const json& s) {
  std::string out;
  for (const auto& w : s.value("workers", json::array())) out += std::to_string(w["pid"].get<int>()) + " ";
  return out;
}

}  // namespace scalekit::testing
