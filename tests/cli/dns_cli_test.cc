// Integration tests of `scalekit dns serve` with the real resolvers' tools:
// dig and nslookup (bind9-dnsutils).

#include <gtest/gtest.h>

#include <fstream>

#include "cli_helpers.h"
#include "sanitizers.h"

using scalekit::testing::bin;
using scalekit::testing::command_result;
using scalekit::testing::run_command;
using scalekit::testing::server_process;
using scalekit::testing::temp_dir;

namespace {

struct dns_server : server_process {
  explicit dns_server(const std::string& extra = "") : server_process(bin, "dns serve " + extra, "cli-dns") {}
  command_result dig(const std::string& args) const {
    return run_command("dig @127.0.0.1 -p " + port() + " +time=2 +tries=1 " + args);
  }
};

}  // namespace

TEST(CliDns, DigGetsTheSeedAnswersWithAndWithoutEdnsAndOverTcp) {
  dns_server server("-j 2");
  ASSERT_FALSE(server.port().empty()) << server.log();
  for (const char* flags : {"", "+noedns", "+tcp", "+noedns +tcp", "+nocookie", "+dnssec"}) {
    const std::string f = std::string(flags) + " +short ";
    EXPECT_EQ(server.dig(f + "facebook.com").out, "173.252.120.6\n") << flags;
    EXPECT_EQ(server.dig(f + "YouGov.COM").out, "213.52.133.246\n") << flags;
    EXPECT_EQ(server.dig(f + "wipo.int").out, "193.5.93.80\n") << flags;
    EXPECT_EQ(server.dig(f + "anything.example").out, "127.0.0.1\n") << flags;
  }
  // The full reply as dig prints it: authoritative, the name in the client's case, TTL 60, our EDNS buffer.
  const auto full = server.dig("FaceBook.com");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.out.find("status: NOERROR"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("flags: qr aa rd;"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("udp: 1232"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("FaceBook.com.\t\t60\tIN\tA\t173.252.120.6"), std::string::npos) << full.out;
  EXPECT_EQ(full.out.find("WARNING: Message parser"), std::string::npos) << full.out;
  // AAAA: no answer, no error. EDNS version 1: BADVERS, and dig retries with version 0.
  const auto aaaa = server.dig("facebook.com AAAA");
  EXPECT_NE(aaaa.out.find("status: NOERROR"), std::string::npos) << aaaa.out;
  EXPECT_NE(aaaa.out.find("ANSWER: 0"), std::string::npos) << aaaa.out;
  const auto v1 = server.dig("+edns=1 wipo.int");
  EXPECT_NE(v1.out.find("BADVERS"), std::string::npos) << v1.out;
  EXPECT_NE(v1.out.find("193.5.93.80"), std::string::npos) << v1.out;
  // nslookup, as the seed tests its server.
  const auto ns = run_command("nslookup -port=" + server.port() + " facebook.com 127.0.0.1");
  EXPECT_EQ(ns.exit_code, 0) << ns.out << ns.err;
  EXPECT_NE(ns.out.find("Address: 173.252.120.6"), std::string::npos) << ns.out;
  const std::string log = server.stop();
  EXPECT_EQ(server.exit_code(), 0) << log;
  EXPECT_NE(log.find("dns serve: "), std::string::npos) << log;
  EXPECT_NE(log.find(" tcp), "), std::string::npos) << log;
}

TEST(CliDns, ZoneFileNxdomainAndTruncationWithTcpRetry) {
  temp_dir dir("cli-dns-zone");
  {
    std::ofstream zone(dir / "zone");
    zone << "small.test 10.1.2.3\nbroken line here\n";
    for (int i = 0; i < 100; ++i) zone << "big.test 10.0.0." << i << "\n";
  }
  dns_server server("--zone " + (dir / "zone") + " --nxdomain");
  ASSERT_FALSE(server.port().empty()) << server.log();
  EXPECT_NE(server.log().find(":2: 'line' is not an IPv4 address"), std::string::npos) << server.log();
  EXPECT_EQ(server.dig("+short small.test").out, "10.1.2.3\n");
  EXPECT_NE(server.dig("facebook.com").out.find("status: NXDOMAIN"), std::string::npos);  // not in this zone
  // 100 addresses do not fit a UDP reply: TC set, dig retries over TCP and gets them all.
  const auto big = server.dig("big.test");
  EXPECT_NE(big.out.find("Truncated, retrying in TCP mode"), std::string::npos) << big.out;
  EXPECT_NE(big.out.find("ANSWER: 100"), std::string::npos) << big.out;
  const auto notcp = server.dig("+ignore big.test");
  EXPECT_NE(notcp.out.find(" tc "), std::string::npos) << notcp.out;
  const std::string log = server.stop();
  EXPECT_NE(log.find("2 truncated"), std::string::npos) << log;  // dig's first try and +ignore
  EXPECT_NE(log.find("1 NXDOMAIN"), std::string::npos) << log;
}

// Garbage on both transports: FORMERR or silence, and the server keeps answering.
TEST(CliDns, MalformedPacketsDoNotStopTheServer) {
  dns_server server;
  ASSERT_FALSE(server.port().empty()) << server.log();
  const std::string script = R"(
import socket, struct, sys
port = int(sys.argv[1])
good = bytes.fromhex('abcd01000001000000000000') + b'\x08facebook\x03com\x00\x00\x01\x00\x01'
bad = [b'', b'\x01', bytes(11), good[:12], good[:20], good[:12] + b'\xc0\x0c\x00\x01\x00\x01',
       good[:4] + b'\x00\x02' + good[6:], good[:12] + b'\x40abc\x00\x00\x01\x00\x01', bytes(range(256)) * 3]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(0.3)
formerr = silent = 0
for b in bad:
    u.sendto(b, ('127.0.0.1', port))
    try:
        r, _ = u.recvfrom(4096)
        formerr += (r[3] & 15) == 1
    except socket.timeout:
        silent += 1
# Over TCP, on one connection: a message too short to answer (skipped), a header
# with no question (FORMERR), a good query, then half a message and a hang-up.
t = socket.create_connection(('127.0.0.1', port))
t.sendall(struct.pack('!H', 5) + b'\x12\x34\x00\x00\x00')
t.sendall(struct.pack('!H', 12) + b'\x12\x34' + bytes(10))
t.sendall(struct.pack('!H', len(good)) + good)
replies = []
buf = b''
t.settimeout(2)
while len(replies) < 2:
    buf += t.recv(4096)
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack('!H', buf[:2])[0]:
        n = struct.unpack('!H', buf[:2])[0]
        replies.append(buf[2:2 + n]); buf = buf[2 + n:]
t.sendall(struct.pack('!H', 100) + b'\x00' * 10)
t.close()
print(formerr, silent, replies[0][3] & 15, replies[1][-1])
)";
  std::ofstream(server.dir() / "bad.py") << script;
  const auto r = run_command("/usr/bin/python3 " + (server.dir() / "bad.py") + " " + server.port());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 6 FORMERR (header only, label past the end, loop, QDCOUNT 2, label type, garbage),
  // 3 silent (0, 1 and 11 bytes); over TCP a FORMERR then facebook.com's last byte.
  EXPECT_EQ(r.out, "6 3 1 6\n");
  EXPECT_EQ(server.dig("+short facebook.com").out, "173.252.120.6\n");  // still serving
  const std::string log = server.stop();
  EXPECT_NE(log.find("4 dropped"), std::string::npos) << log;  // 3 over UDP, 1 over TCP
}

TEST(CliDns, BadUsage) {
  EXPECT_EQ(run_command(bin + " dns serve --listen nowhere").exit_code, 2);
  // A zone file that cannot be read is a failed job (exit 1), as any input file is.
  const auto missing = run_command(bin + " dns serve --zone /nonexistent");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "scalekit dns serve: zone file: cannot read '/nonexistent': no such file or directory\n");
  EXPECT_EQ(run_command(bin + " dns serve --default-address 1.2.3").exit_code, 2);
  // A port that is taken: a one-line error, exit 1.
  dns_server first;
  ASSERT_FALSE(first.port().empty());
  const auto taken = run_command(bin + " dns serve --listen 127.0.0.1:" + first.port());
  EXPECT_EQ(taken.exit_code, 1) << taken.err;
  EXPECT_NE(taken.err.find("cannot listen on 127.0.0.1:" + first.port()), std::string::npos) << taken.err;
}

// Issue 16: a zone file without line ends (/dev/zero took the server to 1 GB in
// a second) is refused before anything is served: /dev/zero as not a regular
// file, before reading; a regular file with an endless line with the file and
// line, at the bound.
TEST(CliDns, AnEndlessZoneLineIsRefusedNamingTheFileAndLine) {
  const auto zero = run_command("sh -c '" + scalekit::testing::address_space_limit(4000000) + "exec timeout 30 " + bin +
                                " dns serve --listen 127.0.0.1:0 --zone /dev/zero'");
  EXPECT_EQ(zero.exit_code, 1) << zero.err;
  EXPECT_NE(zero.err.find("cannot read '/dev/zero': not a regular file"), std::string::npos) << zero.err;
  EXPECT_EQ(zero.err.find("listening on"), std::string::npos) << zero.err;
  temp_dir d("dns-long-line");
  std::ofstream(d / "zone") << "example.com 1.2.3.4\n" << std::string(100000, 'x') << "\n";
  const auto r = run_command("sh -c '" + scalekit::testing::address_space_limit(4000000) + "exec timeout 30 " + bin +
                             " dns serve --listen 127.0.0.1:0 --zone " + (d / "zone") + "'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find((d / "zone") + ":2: a line longer than 65536 bytes"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
}
