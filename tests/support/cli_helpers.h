#pragma once
// Helpers of the integration tests that run the real scalekit binary: only for
// cli_tests, whose build defines SCALEKIT_BINARY and SCALEKIT_SEEDS_DIR.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run_command.h"
#include "server_process.h"

#if !defined(SCALEKIT_BINARY) || !defined(SCALEKIT_SEEDS_DIR)
#error "cli_helpers.h needs SCALEKIT_BINARY and SCALEKIT_SEEDS_DIR (tests/CMakeLists.txt sets them for cli_tests)"
#endif

namespace scalekit::testing {

/// Asks `done` every 50 ms until it says true or `timeout` has passed: whether
/// it said true. For a test that waits for a thing to happen, not for a fixed
/// time that a loaded machine (a sanitizer build beside other tests) outlasts.
template <typename Done>
bool eventually(Done done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

/// The scalekit binary under test.
inline const std::string bin = SCALEKIT_BINARY;

/// `scalekit ARGS`, through the shell.
inline command_result run_scalekit(const std::string& args) { return run_command(bin + " " + args); }

/// The scalekit that runs a test's peers and references (a distributed worker,
/// `mandelbrot` to compare with): `bin`, but in the tsan preset, whose
/// scalekit-serve has `serve` alone, the release build's scalekit.
#ifdef SCALEKIT_PEER_BINARY
inline const std::string peer_bin = SCALEKIT_PEER_BINARY;
#else
inline const std::string peer_bin = bin;
#endif

/// Whether peer_bin is there to run (a test that needs it skips, saying so, when not).
inline bool peer_built() { return ::access(peer_bin.c_str(), X_OK) == 0; }

/// `scalekit ARGS` of peer_bin, through the shell.
inline command_result run_peer(const std::string& args) { return run_command(peer_bin + " " + args); }

/// The number of lines in `s` (its newline characters).
inline std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

/// The lines of `s`, sorted, each ended by a newline: two outputs whose order
/// is free are the same when these are.
inline std::string sorted_lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  std::sort(v.begin(), v.end());
  std::string out;
  for (auto& l : v) out += l + "\n";
  return out;
}

/// tests/fixtures/http_test_server.py on a free port: statuses, redirects,
/// gzip, slow and hanging URLs, an HTML page.
struct test_http_server : server_process {
  test_http_server() : server_process("/usr/bin/python3", SCALEKIT_SEEDS_DIR "/../http_test_server.py", "cli-http") {}
  [[nodiscard]] std::string url(const std::string& path) const { return "http://127.0.0.1:" + port() + path; }
};

}  // namespace scalekit::testing
