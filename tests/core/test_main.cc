// Test main for the core: registers the test tasks, then either serves as a
// process-pool worker (when re-executed by a pool) or runs GoogleTest.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "scalekit/core/atomic_file.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"
#include "test_tasks.h"

using scalekit::core::bytes;

void register_test_tasks() {
  auto& r = scalekit::core::task_registry::global();
  r.add("test.echo", [](std::string_view p) { return bytes(p); });
  r.add("test.square", [](std::string_view p) {
    scalekit::core::wire_reader in(p);
    const auto v = in.get<std::uint64_t>();
    in.expect_end();
    return scalekit::core::wire_writer().put<std::uint64_t>(v * v).take();
  });
  r.add("test.fail", [](std::string_view p) -> bytes { throw std::runtime_error("boom: " + std::string(p)); });
  r.add("test.sleep_ms", [](std::string_view p) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(std::string(p))));
    return bytes(p);
  });
  r.add("test.pid", [](std::string_view) { return std::to_string(::getpid()); });
  // State kept between calls in one process: "pid:n" for its n-th call.
  r.add("test.count", [](std::string_view) {
    static std::atomic<int> calls{0};
    return std::to_string(::getpid()) + ":" + std::to_string(++calls);
  });
  // Kills its own process the first time (a marker file remembers), then succeeds.
  r.add("test.crash_once", [](std::string_view marker) {
    struct stat st;
    if (::stat(std::string(marker).c_str(), &st) != 0) {
      std::ofstream(std::string(marker)) << "crashed\n";
      ::raise(SIGKILL);
    }
    return bytes("survived");
  });
  // Starts writing an output file (payload: its path), then hangs: what a
  // cancelled worker must clean up after.
  r.add("test.write_and_hang", [](std::string_view path) -> bytes {
    auto file = scalekit::core::atomic_file::create(std::string(path));
    if (!file.ok()) throw std::runtime_error(file.error().message());
    (void)file->write("partial", 7);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return {};
  });
  // The descriptors open in the worker, space-separated.
  r.add("test.open_fds", [](std::string_view) {
    std::string out;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
      out += e.path().filename().string() + " ";
    return out;
  });
  r.add("test.crash", [](std::string_view) -> bytes {
    // The default action, also under ASan, whose handler would report this
    // deliberate crash as an error (and fail the test: tests/CMakeLists.txt).
    ::signal(SIGSEGV, SIG_DFL);
    ::raise(SIGSEGV);
    return {};
  });
}

int main(int argc, char** argv) {
  register_test_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
