#include "scalekit/net/dns_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "loopback.h"
#include "run_command.h"
#include "service_thread.h"

using namespace scalekit;
namespace dns = scalekit::net::dns;
using scalekit::testing::field;
using scalekit::testing::service_thread;
using scalekit::testing::temp_dir;

namespace {

// A query for `name`'s A records, as a resolver sends it: ID 0xabcd, RD set.
std::vector<std::uint8_t> query_for(const std::string& name) {
  std::vector<std::uint8_t> q = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<std::uint8_t>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});  // root, QTYPE A, QCLASS IN
  return q;
}

void set_timeout(int fd, long ms = 2000) {
  const timeval t{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
}

// One datagram to the server and its reply (empty when none came within `wait_ms`).
std::vector<std::uint8_t> ask_udp(std::uint16_t port, const std::vector<std::uint8_t>& query, long wait_ms = 2000) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  set_timeout(fd, wait_ms);
  const sockaddr_in to = scalekit::testing::loopback_address(port);
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  std::vector<std::uint8_t> reply(4096);
  const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
  ::close(fd);
  reply.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return reply;
}

// One length-prefixed query over TCP and its reply (empty on any failure).
std::vector<std::uint8_t> ask_tcp(std::uint16_t port, const std::vector<std::uint8_t>& query) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  set_timeout(fd);
  const sockaddr_in to = scalekit::testing::loopback_address(port);
  std::vector<std::uint8_t> reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
    std::vector<std::uint8_t> msg = {static_cast<std::uint8_t>(query.size() >> 8),
                                     static_cast<std::uint8_t>(query.size())};
    msg.insert(msg.end(), query.begin(), query.end());
    ::send(fd, msg.data(), msg.size(), 0);
    std::uint8_t len[2];
    if (::recv(fd, len, 2, MSG_WAITALL) == 2) {
      reply.resize(static_cast<std::size_t>(len[0] << 8 | len[1]));
      if (::recv(fd, reply.data(), reply.size(), MSG_WAITALL) != static_cast<ssize_t>(reply.size())) reply.clear();
    }
  }
  ::close(fd);
  return reply;
}

int rcode_of(const std::vector<std::uint8_t>& reply) { return reply.size() >= 4 ? reply[3] & 15 : -1; }

// The last answer's address, "a.b.c.d".
std::string last_address(const std::vector<std::uint8_t>& reply) {
  if (reply.size() < 16) return "";
  const auto* a = &reply[reply.size() - 4];
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]);
}

dns::server_options any_port() {
  dns::server_options o;
  o.port = 0;
  return o;
}

}  // namespace

class DnsServe : public ::testing::TestWithParam<std::size_t> {};

// The service's whole life through its entry: listen, answer over both
// transports, count, stop when asked, report.
TEST_P(DnsServe, AnswersOverUdpAndTcpUntilStopped) {
  auto o = any_port();
  o.threads = GetParam();
  service_thread svc([&](core::observer& obs) { return dns::serve(o, obs); });
  const std::uint16_t port = svc.port();
  ASSERT_NE(port, 0) << svc.messages();
  EXPECT_NE(svc.messages().find(std::to_string(GetParam()) +
                                (GetParam() == 1 ? " thread, 3 names" : " threads, 3 names")),
            std::string::npos)
      << svc.messages();

  const auto facebook = ask_udp(port, query_for("facebook.com"));
  ASSERT_FALSE(facebook.empty());
  EXPECT_EQ(facebook[0], 0xab);
  EXPECT_EQ(facebook[1], 0xcd);
  EXPECT_EQ(rcode_of(facebook), 0);
  EXPECT_EQ(last_address(facebook), "173.252.120.6");
  EXPECT_EQ(last_address(ask_udp(port, query_for("anything.example"))), "127.0.0.1");  // the default address
  EXPECT_EQ(last_address(ask_tcp(port, query_for("wipo.int"))), "193.5.93.80");
  EXPECT_TRUE(ask_udp(port, {0x01}, 300).empty());  // too short to answer: dropped

  auto r = svc.stop();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->job, "dns serve");
  EXPECT_EQ(field<std::uint64_t>(*r, "udp_queries"), 3u);
  EXPECT_EQ(field<std::uint64_t>(*r, "tcp_queries"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "replies"), 3u);
  EXPECT_EQ(field<std::uint64_t>(*r, "dropped"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "tcp_connections"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "jobs"), GetParam());
  EXPECT_EQ(r->failures, 0u);
  EXPECT_NE(r->summary_line().find(
                "4 queries (3 udp, 1 tcp), 3 replies, 0 FORMERR, 0 NXDOMAIN, 0 truncated, 1 dropped"),
            std::string::npos)
      << r->summary_line();
  EXPECT_EQ(svc.observer().text(), "");  // a service's lines are messages, not output
}

INSTANTIATE_TEST_SUITE_P(Threads, DnsServe, ::testing::Values(std::size_t{1}, std::size_t{2}),
                         [](const auto& p) { return "j" + std::to_string(p.param); });

TEST(DnsServeZone, BadLinesAreMessagesAndUnknownNamesGetNxdomain) {
  temp_dir dir("dns-zone");
  std::ofstream(dir / "zone") << "small.test 10.1.2.3\nbroken line here\n";
  auto o = any_port();
  o.zone_file = dir / "zone";
  o.nxdomain = true;
  o.log_queries = true;
  service_thread svc([&](core::observer& obs) { return dns::serve(o, obs); });
  const std::uint16_t port = svc.port();
  ASSERT_NE(port, 0) << svc.messages();
  EXPECT_EQ(last_address(ask_udp(port, query_for("small.test"))), "10.1.2.3");
  EXPECT_EQ(rcode_of(ask_udp(port, query_for("facebook.com"))), 3);  // not in this zone: NXDOMAIN
  auto r = svc.stop();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(field<std::uint64_t>(*r, "bad_zone_lines"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "nxdomain"), 1u);
  EXPECT_EQ(field<std::uint64_t>(*r, "zone_names"), 1u);
  EXPECT_EQ(r->failures, 0u);  // a bad zone line is skipped, not a failure
  const std::string m = svc.messages();
  EXPECT_NE(m.find(":2: 'line' is not an IPv4 address"), std::string::npos) << m;
  EXPECT_NE(m.find("zone: 1 bad lines skipped"), std::string::npos) << m;
  EXPECT_NE(m.find("query from 127.0.0.1: small.test. type 1 -> NOERROR, 1 answers"), std::string::npos) << m;
  EXPECT_NE(m.find("query from 127.0.0.1: facebook.com. type 1 -> NXDOMAIN, 0 answers"), std::string::npos) << m;
}

TEST(DnsServeOptions, BadOptionsFailBeforeServing) {
  core::collecting_observer obs;
  auto o = any_port();
  o.default_address = "1.2.3";
  auto bad_default = dns::serve(o, obs);
  ASSERT_FALSE(bad_default.ok());
  EXPECT_EQ(bad_default.error().code(), status_code::invalid_argument);
  EXPECT_NE(bad_default.error().message().find("'1.2.3' is not an IPv4 address"), std::string::npos);

  o = any_port();
  o.host = "nowhere";
  auto bad_host = dns::serve(o, obs);
  ASSERT_FALSE(bad_host.ok());
  EXPECT_EQ(bad_host.error().code(), status_code::invalid_argument);

  o = any_port();
  o.zone_file = "/nonexistent/zone";
  EXPECT_FALSE(dns::serve(o, obs).ok());
  EXPECT_TRUE(obs.messages().empty());  // it never listened
}

TEST(DnsServeOptions, ATakenPortIsAnError) {
  service_thread first([](core::observer& obs) { return dns::serve(any_port(), obs); });
  const std::uint16_t port = first.port();
  ASSERT_NE(port, 0);
  auto o = any_port();
  o.port = port;
  core::collecting_observer obs;
  auto r = dns::serve(o, obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), status_code::io_error);
  EXPECT_NE(r.error().message().find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos);
}

// A stop requested before the service starts: it binds, says so, and returns at once.
TEST(DnsServeOptions, AStopRequestedBeforehandEndsItAtOnce) {
  std::stop_source stop;
  stop.request_stop();
  core::collecting_observer obs(stop.get_token());
  auto r = dns::serve(any_port(), obs);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(field<std::uint64_t>(*r, "udp_queries"), 0u);
}
