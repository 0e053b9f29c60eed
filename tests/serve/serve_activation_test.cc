// `scalekit serve` under systemd socket activation (LISTEN_FDS, LISTEN_PID)
// handed descriptors it cannot serve: the real binary, started by a Python
// launcher that puts the descriptor at 3 and execs it.

#include <gtest/gtest.h>

#include <string>

#include "cli_helpers.h"

using scalekit::testing::bin;
using scalekit::testing::run_command;

namespace {

// `serve -w 1` with LISTEN_FDS=1 and as descriptor 3 the `fd` that the Python lines
// `make_fd` set; stopped after 15 s if it is still running (exit status 124).
scalekit::testing::command_result serve_activated(const std::string& make_fd) {
  const std::string launcher = "import os, socket, sys\n" + make_fd +
                               "\n"
                               "if fd != 3: os.dup2(fd, 3)\n"
                               "os.set_inheritable(3, True)\n"
                               "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
                               "os.execv(sys.argv[1], sys.argv[1:])\n";
  return run_command("timeout 15 /usr/bin/python3 -c \"" + launcher + "\" " + bin + " serve -w 1 --grace 1");
}

}  // namespace

// A file as descriptor 3: the master said "listening on ?:?", and every worker
// failed at start ("not a socket") until serve gave up with status 1. Now a
// usage error (2) at once, naming the descriptor.
TEST(ServeActivation, ADescriptorThatIsNotASocketIsAUsageError) {
  const auto r = serve_activated("fd = os.open('/etc/hostname', os.O_RDONLY)");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("LISTEN_FDS: descriptor 3: Socket operation on non-socket"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("worker"), std::string::npos) << r.err;
}

// A UDP socket: the workers said they were ready and retried accept() every
// 100 ms for ever. Now a usage error at once.
TEST(ServeActivation, AUdpSocketIsAUsageError) {
  const auto r = serve_activated(
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0)); fd = u.fileno()");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not a stream (TCP) socket"), std::string::npos) << r.err;
}

// A TCP socket bound and not listening: the same.
TEST(ServeActivation, ASocketThatDoesNotListenIsAUsageError) {
  const auto r = serve_activated("t = socket.socket(); t.bind(('127.0.0.1', 0)); fd = t.fileno()");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not a listening socket"), std::string::npos) << r.err;
}
