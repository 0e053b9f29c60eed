#include "scalekit/net/dns.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "run_command.h"

namespace dns = scalekit::net::dns;
using bytes = std::vector<std::uint8_t>;

namespace {

std::uint16_t u16(const bytes& m, std::size_t at) { return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]); }

struct reply {
  dns::outcome o;
  bytes m;
};

reply ask(const bytes& query, const dns::zone& z = dns::zone::seed_default(), dns::transport t = dns::transport::udp) {
  reply r;
  r.o = dns::answer(query, z, t, r.m);
  return r;
}

unsigned rcode_of(const reply& r) { return r.m[3] & 0xF; }

// The OPT record at the end of a reply: {udp size, extended rcode, version, flags}.
struct opt_fields {
  unsigned size, ext_rcode, version, flags;
};
opt_fields trailing_opt(const bytes& m) {
  const std::size_t at = m.size() - 11;
  EXPECT_EQ(m[at], 0);
  EXPECT_EQ(u16(m, at + 1), 41);
  return {u16(m, at + 3), m[at + 5], m[at + 6], u16(m, at + 7)};
}

}  // namespace

TEST(Dns, AnswersTheSeedNamesWithAProperHeader) {
  const auto r = ask(dns::make_query(0xBEEF, "facebook.com", 1, false));
  ASSERT_TRUE(r.o.replied);
  EXPECT_EQ(u16(r.m, 0), 0xBEEF);            // ID echoed
  EXPECT_EQ(r.m[2], 0x80 | 0x04 | 0x01);     // QR, AA, RD copied
  EXPECT_EQ(r.m[3], 0x00);                   // RA clear, NOERROR
  EXPECT_EQ(u16(r.m, 4), 1);                 // QDCOUNT
  EXPECT_EQ(u16(r.m, 6), 1);                 // ANCOUNT
  EXPECT_EQ(u16(r.m, 10), 0);                // no OPT without EDNS
  ASSERT_EQ(r.m.size(), 12u + 14 + 4 + 16);  // header, "facebook.com.", type/class, one answer
  const std::size_t a = 12 + 14 + 4;
  EXPECT_EQ(u16(r.m, a), 0xC00C);  // pointer to the question's name
  EXPECT_EQ(u16(r.m, a + 2), 1);   // A
  EXPECT_EQ(u16(r.m, a + 4), 1);   // IN
  EXPECT_EQ(u16(r.m, a + 8), 60);  // TTL 60
  EXPECT_EQ(u16(r.m, a + 10), 4);
  EXPECT_EQ(bytes(r.m.begin() + a + 12, r.m.end()), (bytes{173, 252, 120, 6}));
  EXPECT_EQ(ask(dns::make_query(1, "yougov.com", 1, false)).m.back(), 246);
  EXPECT_EQ(ask(dns::make_query(1, "wipo.int.", 1, false)).m.back(), 80);
  EXPECT_EQ(ask(dns::make_query(1, "example.org", 1, false)).m.back(), 1);  // 127.0.0.1
}

TEST(Dns, NamesMatchCaseInsensitivelyAndTheQuestionKeepsItsCase) {
  const auto q = dns::make_query(7, "FaceBook.COM", 1, false);
  const auto r = ask(q);
  EXPECT_EQ(bytes(r.m.begin() + 12, r.m.begin() + 12 + 14), bytes(q.begin() + 12, q.begin() + 12 + 14));
  EXPECT_EQ(r.m.back(), 6);
  EXPECT_EQ(r.o.name, "FaceBook.COM.");
}

TEST(Dns, OtherTypesGetNoErrorAndNoAnswer) {
  for (std::uint16_t type : {28, 15, 16, 2}) {  // AAAA, MX, TXT, NS
    const auto r = ask(dns::make_query(1, "facebook.com", type, true));
    EXPECT_EQ(rcode_of(r), 0u) << type;
    EXPECT_EQ(u16(r.m, 6), 0) << type;
  }
  EXPECT_EQ(u16(ask(dns::make_query(1, "facebook.com", 255, false)).m, 6), 1);   // ANY includes the A record
  EXPECT_EQ(rcode_of(ask(dns::make_query(1, "facebook.com", 252, false))), 5u);  // AXFR refused
}

TEST(Dns, NxdomainModeForUnknownNames) {
  auto z = dns::zone::seed_default();
  z.set_nxdomain();
  const auto r = ask(dns::make_query(1, "example.org", 1, true), z);
  EXPECT_EQ(rcode_of(r), 3u);
  EXPECT_EQ(u16(r.m, 6), 0);
  EXPECT_EQ(ask(dns::make_query(1, "wipo.int", 1, true), z).m[3] & 0xF, 0);
}

TEST(Dns, EdnsQueriesGetOurOptRecord) {
  auto q = dns::make_query(9, "facebook.com", 1, true);
  q[q.size() - 4] = 0x80;  // DO bit on
  const auto r = ask(q);
  EXPECT_EQ(u16(r.m, 10), 1);  // ARCOUNT
  const auto opt = trailing_opt(r.m);
  EXPECT_EQ(opt.size, 1232u);
  EXPECT_EQ(opt.version, 0u);
  EXPECT_EQ(opt.flags, 0x8000u);  // DO copied
  EXPECT_TRUE(r.o.edns);
}

TEST(Dns, UnknownEdnsVersionGetsBadvers) {
  auto q = dns::make_query(9, "facebook.com", 1, true);
  q[q.size() - 5] = 1;  // version 1
  const auto r = ask(q);
  EXPECT_EQ(rcode_of(r), 0u);  // BADVERS = 16: the low four bits are 0...
  const auto opt = trailing_opt(r.m);
  EXPECT_EQ(opt.ext_rcode, 1u);  // ...and the high eight bits are in the OPT record
  EXPECT_EQ(opt.version, 0u);
  EXPECT_EQ(u16(r.m, 6), 0);
}

TEST(Dns, UnknownEdnsOptionsAreIgnoredMalformedOnesAreFormerr) {
  auto q = dns::make_query(9, "facebook.com", 1, true);
  // A cookie (10) and an unknown option (65001), as dig may send.
  const bytes options{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0xFD, 0xE9, 0, 2, 0xAA, 0xBB};
  q[q.size() - 1] = static_cast<std::uint8_t>(options.size());
  q.insert(q.end(), options.begin(), options.end());
  EXPECT_EQ(ask(q).m.back(), 0);  // rdlength of our OPT; the reply is a normal answer
  EXPECT_EQ(u16(ask(q).m, 6), 1);
  q[q.size() - 3] = 9;  // the last option claims more bytes than there are
  EXPECT_EQ(rcode_of(ask(q)), 1u);
}

TEST(Dns, TwoOptRecordsAreFormerr) {
  auto q = dns::make_query(9, "facebook.com", 1, true);
  const bytes opt(q.end() - 11, q.end());
  q.insert(q.end(), opt.begin(), opt.end());
  q[11] = 2;
  EXPECT_EQ(rcode_of(ask(q)), 1u);
}

TEST(Dns, LargeAnswersAreTruncatedOverUdpAndWholeOverTcp) {
  dns::zone z;
  for (int i = 0; i < 100; ++i) z.add("many.example", {10, 0, 0, static_cast<std::uint8_t>(i)});
  const auto plain = ask(dns::make_query(1, "many.example", 1, false), z);
  EXPECT_TRUE(plain.m[2] & 0x02);  // TC
  EXPECT_EQ(u16(plain.m, 6), 0);
  EXPECT_LE(plain.m.size(), 512u);
  const auto edns = ask(dns::make_query(1, "many.example", 1, true), z);
  EXPECT_TRUE(edns.m[2] & 0x02);  // 100 answers do not fit 1232 bytes either
  const auto tcp = ask(dns::make_query(1, "many.example", 1, false), z, dns::transport::tcp);
  EXPECT_FALSE(tcp.m[2] & 0x02);
  EXPECT_EQ(u16(tcp.m, 6), 100);
  for (int i = 0; i < 40; ++i) z.add("some.example", {10, 0, 1, static_cast<std::uint8_t>(i)});
  EXPECT_TRUE(ask(dns::make_query(1, "some.example", 1, false), z).m[2] & 0x02);  // 670 bytes > 512
  EXPECT_FALSE(ask(dns::make_query(1, "some.example", 1, true), z).m[2] & 0x02);  // fits the EDNS buffer
  EXPECT_EQ(u16(ask(dns::make_query(1, "some.example", 1, true), z).m, 6), 40);
}

TEST(Dns, WhatCannotBeAnsweredIsDropped) {
  EXPECT_FALSE(ask(bytes{}).o.replied);
  EXPECT_FALSE(ask(bytes(11, 0)).o.replied);  // no room for a header
  auto q = dns::make_query(1, "facebook.com", 1, false);
  q[2] |= 0x80;  // a response, not a query
  EXPECT_FALSE(ask(q).o.replied);
}

TEST(Dns, MalformedQueriesGetFormerr) {
  const auto good = dns::make_query(0x1234, "facebook.com", 1, false);
  auto expect_formerr = [](const bytes& q, const char* what) {
    const auto r = ask(q);
    ASSERT_TRUE(r.o.replied) << what;
    EXPECT_EQ(rcode_of(r), 1u) << what;
    EXPECT_EQ(u16(r.m, 0), u16(q, 0)) << what;
    EXPECT_EQ(u16(r.m, 6), 0) << what;
  };
  auto q = good;
  q[5] = 0;
  expect_formerr(q, "QDCOUNT 0");
  q[5] = 2;
  expect_formerr(q, "QDCOUNT 2");
  expect_formerr(bytes(good.begin(), good.begin() + 12), "header only");
  expect_formerr(bytes(good.begin(), good.begin() + 20), "label past the end");
  expect_formerr(bytes(good.begin(), good.end() - 2), "no class");
  q = bytes(good.begin(), good.begin() + 12);
  q.insert(q.end(), {0xC0, 12, 0, 1, 0, 1});  // a pointer to itself
  expect_formerr(q, "compression loop");
  q = bytes(good.begin(), good.begin() + 12);
  for (int i = 0; i < 5; ++i) {
    q.push_back(63);
    q.insert(q.end(), 63, 'a');
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  expect_formerr(q, "name longer than 255 bytes");
  q = good;
  q[12] = 0x40;  // a reserved label type
  expect_formerr(q, "label type 0x40");
  q = good;
  q[11] = 1;  // one additional record that is not there
  {
    const auto r = ask(q);
    EXPECT_EQ(rcode_of(r), 1u);
    EXPECT_EQ(u16(r.m, 4), 1);  // the question parsed, so it is echoed
  }
  q = good;
  q[2] = 0x10;                      // opcode 2 (STATUS)
  EXPECT_EQ(rcode_of(ask(q)), 4u);  // NOTIMP
}

TEST(Dns, ACompressedQuestionIsAnsweredUncompressed) {
  // The question's name points forward to "facebook.com" stored after it.
  bytes q = {0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 18, 0, 1, 0, 1};
  const auto tail = dns::make_query(0, "facebook.com", 1, false);
  q.insert(q.end(), tail.begin() + 12, tail.begin() + 26);
  const auto r = ask(q);
  EXPECT_EQ(rcode_of(r), 0u);
  EXPECT_EQ(r.m.back(), 6);
  EXPECT_EQ(r.m[12], 8);  // "facebook" spelled out in the reply's question
}

// Random and mutated packets: never a crash, never a reply over the limit,
// never a reply to a packet that is too short.
TEST(Dns, RandomInputIsSafe) {
  std::mt19937 rng(42);
  bytes out;
  const auto z = dns::zone::seed_default();
  const auto base = dns::make_query(1, "facebook.com", 1, true);
  for (int i = 0; i < 200000; ++i) {
    bytes q;
    if (i % 2) {
      q.resize(rng() % 80);
      for (auto& b : q) b = static_cast<std::uint8_t>(rng());
    } else {
      q = base;
      for (int k = 0; k < 3; ++k) q[rng() % q.size()] = static_cast<std::uint8_t>(rng());
      q.resize(rng() % (q.size() + 4));
    }
    const auto o = dns::answer(q, z, i % 3 ? dns::transport::udp : dns::transport::tcp, out);
    if (q.size() < 12) {
      ASSERT_FALSE(o.replied);
    }
    ASSERT_LE(out.size(), i % 3 ? 1232u : 65535u);
    if (o.replied) {
      ASSERT_GE(out.size(), 12u);
    }
  }
}

TEST(DnsZone, LoadsNamesAndReportsBadLines) {
  scalekit::testing::temp_dir dir("dns-zone");
  std::ofstream(dir / "zone") << "# a comment\n"
                                 "example.com 10.0.0.1 10.0.0.2\n"
                                 "Example.COM. 10.0.0.3   # same name, one more address\n"
                                 "\n"
                                 "broken\n"
                                 "bad.example 300.1.1.1\n"
                                 "bad_char!.example 10.0.0.9\n"
                                 "ok.example 10.9.9.9\n";
  std::vector<std::string> errors;
  auto z = dns::zone::load(dir / "zone", [&](const std::string& e) { errors.push_back(e); });
  ASSERT_TRUE(z.ok()) << z.error().to_string();
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], dir / "zone" + ":5: expected 'name IP [IP...]', got 'broken'");
  EXPECT_EQ(errors[1], dir / "zone" + ":6: '300.1.1.1' is not an IPv4 address");
  EXPECT_NE(errors[2].find(":7: 'bad_char!.example': bad character '!'"), std::string::npos) << errors[2];
  ASSERT_NE(z->find("example.com"), nullptr);
  EXPECT_EQ(z->find("example.com")->size(), 3u);
  EXPECT_EQ(z->size(), 2u);
  EXPECT_FALSE(dns::zone::load(dir / "missing", [](const std::string&) {}).ok());
}
