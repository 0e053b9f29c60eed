#include "scalekit/net/http.h"

// Unit tests of net's HTTP/1.1 messages: the request parser against a corpus
// of valid and invalid requests, each fed whole, byte by byte and in random
// splits (the three must agree: a server reads whatever pieces the network
// gives it), its bounds, and response formatting.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace net = scalekit::net;
using namespace std::string_literals;

namespace {

// What a server would make of `bytes` arriving in the pieces `cuts` marks:
// each request in order ("GET / HTTP/1.1 keep body=0"), then "error N" when
// one is refused, or "incomplete" when the bytes end inside a request.
std::string transcript(std::string_view bytes, const std::vector<std::size_t>& cuts,
                       const net::http_limits& limits = {}) {
  net::http_request_parser p(limits);
  std::string out, pending;
  std::size_t since_last = 0;  // bytes used by the request being read
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (std::size_t end : ends) {
    pending.append(bytes.substr(from, end - from));
    from = end;
    for (;;) {
      const std::size_t n = p.feed(pending);
      pending.erase(0, n);
      since_last += n;
      if (p.phase() == net::http_parse_phase::failed) return out + "error " + std::to_string(p.error().status);
      if (p.phase() == net::http_parse_phase::complete) {
        const net::http_request r = p.take();
        out += r.method + " " + r.target + " HTTP/1." + std::to_string(r.minor_version) +
               (r.keep_alive ? " keep" : " close") + (r.chunked ? " chunked" : "") +
               (r.expect_continue ? " continue" : "") + " body=" + std::to_string(r.body.size());
        if (!r.body.empty()) out += ":" + r.body.substr(0, 20);
        out += "; ";
        since_last = 0;
        continue;
      }
      if (n == 0 || pending.empty()) break;
    }
  }
  if (since_last > 0 || !pending.empty()) out += "incomplete";
  return out;
}

struct parse_case {
  const char* name;
  std::string bytes;
  std::string expected;  // the transcript
};

const std::string host = "Host: x\r\n";
const std::string get = "GET / HTTP/1.1\r\n" + host + "\r\n";
const std::string post5 = "POST /p HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello";
const std::string chunked_head = "POST /c HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n";

std::string many_fields(int count) {
  std::string r = "GET / HTTP/1.1\r\n" + host;
  for (int i = 1; i < count; ++i) r += "X-" + std::to_string(i) + ": v\r\n";
  return r + "\r\n";
}

std::vector<parse_case> corpus() {
  const std::string ok = "GET / HTTP/1.1 keep body=0; ";
  return {
      // Valid requests.
      {"a GET", get, ok},
      {"HTTP/1.0, no Host, closes", "HEAD /a?b=c HTTP/1.0\r\n\r\n", "HEAD /a?b=c HTTP/1.0 close body=0; "},
      {"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET / HTTP/1.0 keep body=0; "},
      {"Connection: close in a list", "GET / HTTP/1.1\r\n" + host + "Connection: foo, close\r\n\r\n",
       "GET / HTTP/1.1 close body=0; "},
      {"'closed' is not close", "GET / HTTP/1.1\r\n" + host + "Connection: closed\r\n\r\n", ok},
      {"Content-Length body", post5, "POST /p HTTP/1.1 keep body=5:hello; "},
      {"Content-Length 0", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n", "POST / HTTP/1.1 keep body=0; "},
      {"Content-Length with leading zeros", "POST / HTTP/1.1\r\n" + host + "Content-Length: 003\r\n\r\nabc",
       "POST / HTTP/1.1 keep body=3:abc; "},
      {"chunked, with an extension and a trailer",
       chunked_head + "5\r\nhello\r\n6;name=\"v\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
       "POST /c HTTP/1.1 keep chunked body=11:hello world; "},
      {"chunked, upper-case hex, leading zeros", chunked_head + "A\r\n0123456789\r\n000\r\n\r\n",
       "POST /c HTTP/1.1 keep chunked body=10:0123456789; "},
      {"Transfer-Encoding is case-insensitive",
       "POST /c HTTP/1.1\r\n" + host + "Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       "POST /c HTTP/1.1 keep chunked body=3:abc; "},
      {"chunk extension after whitespace", chunked_head + "3 ;x\r\nabc\r\n0\r\n\r\n",
       "POST /c HTTP/1.1 keep chunked body=3:abc; "},
      {"Expect: 100-continue", "POST / HTTP/1.1\r\n" + host + "Expect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc",
       "POST / HTTP/1.1 keep continue body=3:abc; "},
      {"Expect in HTTP/1.0 is ignored", "GET / HTTP/1.0\r\nExpect: whatever\r\n\r\n", "GET / HTTP/1.0 close body=0; "},
      {"pipelined", "GET /1 HTTP/1.1\r\n" + host + "\r\n" + post5 + chunked_head + "1\r\nz\r\n0\r\n\r\n" + get,
       "GET /1 HTTP/1.1 keep body=0; POST /p HTTP/1.1 keep body=5:hello; POST /c HTTP/1.1 keep chunked body=1:z; " +
           ok},
      {"empty lines before a request", "\r\n\r\n" + get, ok},
      {"OPTIONS *", "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", "OPTIONS * HTTP/1.1 keep body=0; "},
      {"empty and tabbed values, obs-text",
       "GET / HTTP/1.1\r\n" + host + "X-Empty:\r\nX-Tab:\tv\t\r\nX-Latin: caf\xe9\r\n\r\n", ok},
      {"any token is a method", "get / HTTP/1.1\r\n" + host + "\r\n", "get / HTTP/1.1 keep body=0; "},
      {"a head cut short", "GET / HTTP/1.1\r\n" + host, "incomplete"},
      {"a body cut short", "POST / HTTP/1.1\r\n" + host + "Content-Length: 10\r\n\r\nabc", "incomplete"},
      {"chunks without the last", chunked_head + "3\r\nabc\r\n", "incomplete"},

      // Lines end with CRLF, and nothing else.
      {"bare LF in the request line", "GET / HTTP/1.1\nHost: x\n\n", "error 400"},
      {"bare LF after a field", "GET / HTTP/1.1\r\nHost: x\n\r\n", "error 400"},
      {"bare LF ending the head", "GET / HTTP/1.1\r\nHost: x\r\n\n", "error 400"},
      {"bare CR inside a field", "GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", "error 400"},
      {"bare CR ending a line", "GET / HTTP/1.1\r\nHost: x\r\r\n\r\n", "error 400"},
      {"bare LF in a chunk size line", chunked_head + "3\nabc\r\n0\r\n\r\n", "error 400"},
      {"bare LF after chunk data", chunked_head + "3\r\nabc\n0\r\n\r\n", "error 400"},

      // Field syntax.
      {"NUL in a value", "GET / HTTP/1.1\r\n" + host + "X-Note: a\0b\r\n\r\n"s, "error 400"},
      {"control character in a value",
       "GET / HTTP/1.1\r\n" + host +
           "X-Note: a\x01"
           "b\r\n\r\n",
       "error 400"},
      {"DEL in a value", "GET / HTTP/1.1\r\n" + host + "X-Note: a\x7f\r\n\r\n", "error 400"},
      {"space before the colon",
       "GET / HTTP/1.1\r\n" + host + "Content-Length : 27\r\n\r\nabcdefghijklmnopqrstuvwxyz\n" + get, "error 400"},
      {"tab before the colon", "GET / HTTP/1.1\r\n" + host + "X-A\t: b\r\n\r\n", "error 400"},
      {"obsolete line folding", "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n b\r\n\r\n", "error 400"},
      {"a field without a colon", "GET / HTTP/1.1\r\n" + host + "no colon\r\n\r\n", "error 400"},
      {"an empty field name", "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", "error 400"},
      {"a separator in a field name", "GET / HTTP/1.1\r\n" + host + "X(A): v\r\n\r\n", "error 400"},

      // Framing: anything that two parsers could read two ways.
      {"Content-Length and Transfer-Encoding",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "error 400"},
      {"Transfer-Encoding and Content-Length",
       "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", "error 400"},
      {"Content-Length twice, equal",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "error 400"},
      {"Content-Length twice, differing",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "error 400"},
      {"Content-Length as a list", "POST / HTTP/1.1\r\n" + host + "Content-Length: 3, 3\r\n\r\nabc", "error 400"},
      {"Content-Length with a sign", "POST / HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\nabc", "error 400"},
      {"Content-Length negative", "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", "error 400"},
      {"Content-Length in hex", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0x3\r\n\r\nabc", "error 400"},
      {"Content-Length empty", "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", "error 400"},
      {"Transfer-Encoding gzip", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", "error 400"},
      {"Transfer-Encoding identity", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: identity\r\n\r\n", "error 400"},
      {"Transfer-Encoding gzip, chunked",
       "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "error 400"},
      {"Transfer-Encoding chunked, chunked",
       "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", "error 400"},
      {"Transfer-Encoding twice",
       "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "error 400"},
      {"Transfer-Encoding with a space inside", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chun ked\r\n\r\n",
       "error 400"},
      {"Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "error 400"},
      {"a chunk size that is not hex", chunked_head + "zz\r\n", "error 400"},
      {"an empty chunk size", chunked_head + "\r\n", "error 400"},
      {"a negative chunk size", chunked_head + "-1\r\n", "error 400"},
      {"a chunk size of 17 digits", chunked_head + "00000000000000001\r\nx\r\n0\r\n\r\n", "error 400"},
      {"a chunk size with junk after it", chunked_head + "3 x\r\nabc\r\n0\r\n\r\n", "error 400"},
      {"a chunk size with trailing whitespace", chunked_head + "3 \r\nabc\r\n0\r\n\r\n", "error 400"},
      {"a control character in a chunk extension", chunked_head + "3;a\x01\r\nabc\r\n0\r\n\r\n", "error 400"},
      {"chunk data longer than its size", chunked_head + "3\r\nabcd\r\n0\r\n\r\n", "error 400"},
      {"a malformed trailer", chunked_head + "0\r\nbad trailer\r\n\r\n", "error 400"},
      {"a refused request ends the stream: the next is never read", get + "GET / HTTP/1.1\nHost: x\n\n" + get,
       ok + "error 400"},

      // The request line.
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "error 505"},
      {"HTTP/1.2", "GET / HTTP/1.2\r\n" + host + "\r\n", "error 505"},
      {"a lower-case protocol", "GET / http/1.1\r\n" + host + "\r\n", "error 400"},
      {"HTTP/11", "GET / HTTP/11\r\n" + host + "\r\n", "error 400"},
      {"something after the version", "GET / HTTP/1.1 x\r\n" + host + "\r\n", "error 400"},
      {"no version (HTTP/0.9)", "GET /\r\n\r\n", "error 400"},
      {"two spaces", "GET  / HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"no method", " / HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"a target that is not a path", "GET x HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      // absolute-form (RFC 9112 3.2.2): the path and query are the target.
      {"an absolute-form target", "GET http://y:8080/a?b HTTP/1.1\r\n" + host + "\r\n",
       "GET /a?b HTTP/1.1 keep body=0; "},
      {"an absolute-form target without a path", "GET HTTPS://y HTTP/1.1\r\n" + host + "\r\n", ok},
      {"an absolute-form target with a query and no path", "GET http://[::1]?q HTTP/1.0\r\n\r\n",
       "GET /?q HTTP/1.0 close body=0; "},
      {"an absolute-form target of another scheme", "GET ftp://y/ HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"an absolute URI that is not hierarchical", "GET mailto:a@y HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"an absolute-form target without a host", "GET http:///a HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"an absolute-form target with a port only", "GET http://:80/ HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"an absolute-form target with userinfo", "GET http://u@y/ HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"an absolute-form target with a bad port", "GET http://y:8x/ HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      // Four fields fill the vector: the Host added for the authority moves them, and Content-Length is read after.
      {"an absolute-form target without Host, with a body and more fields",
       "POST http://y/p HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 3\r\n\r\nabc",
       "POST /p HTTP/1.0 close body=3:abc; "},
      {"an absolute-form target needs a Host in HTTP/1.1", "GET http://y/ HTTP/1.1\r\n\r\n", "error 400"},
      {"a fragment in the target", "GET /a#b HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"a fragment in an absolute-form target", "GET http://y/#b HTTP/1.1\r\n" + host + "\r\n", "error 400"},
      {"NUL in the target", "GET /a\0b HTTP/1.1\r\n"s + host + "\r\n", "error 400"},
      {"* without OPTIONS", "GET * HTTP/1.1\r\n" + host + "\r\n", "error 400"},

      // Host and Expect.
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", "error 400"},
      {"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", "error 400"},
      {"a Host with a space, a slash and an at", "GET / HTTP/1.1\r\nHost: a b/c@d\r\n\r\n", "error 400"},
      {"a Host with a bad percent escape", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", "error 400"},
      {"a Host with a port that is no number", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", "error 400"},
      {"a Host with two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", "error 400"},
      {"an unclosed IP literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "error 400"},
      {"a Host name, escaped, with a port", "GET / HTTP/1.1\r\nHost: my-host.example%41:8080\r\n\r\n", ok},
      {"an IPv6 Host with a port", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", ok},
      {"an empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", ok},
      {"an unknown expectation", "POST / HTTP/1.1\r\n" + host + "Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx",
       "error 417"},

      // Bounds (the defaults: 8192-byte request line, 100 fields, 16384 bytes of them, 1 MiB of body).
      {"a request line of 8192 bytes", "GET /" + std::string(8192 - 14, 'a') + " HTTP/1.1\r\n" + host + "\r\n",
       "GET /" + std::string(8192 - 14, 'a') + " HTTP/1.1 keep body=0; "},
      {"a request line of 8193 bytes", "GET /" + std::string(8193 - 14, 'a') + " HTTP/1.1\r\n" + host + "\r\n",
       "error 414"},
      {"a field of 16 KiB", "GET / HTTP/1.1\r\n" + host + "X-Big: " + std::string(16384, 'b') + "\r\n\r\n",
       "error 431"},
      {"100 fields", many_fields(100), ok},
      {"101 fields", many_fields(101), "error 431"},
      {"trailers count with the headers", chunked_head + "0\r\nX-T: " + std::string(16384, 't') + "\r\n\r\n",
       "error 431"},
      {"a declared body over 1 MiB", "POST / HTTP/1.1\r\n" + host + "Content-Length: 1048577\r\n\r\n", "error 413"},
      {"a declared body of 2^64 and more",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999999\r\n\r\n", "error 413"},
      {"a chunk over 1 MiB", chunked_head + "100001\r\n", "error 413"},
      {"chunks adding up to over 1 MiB", chunked_head + "80000\r\n" + std::string(0x80000, 'c') + "\r\n80001\r\n",
       "error 413"},
      {"a chunk of 16 f's", chunked_head + "ffffffffffffffff\r\n", "error 413"},
  };
}

std::vector<std::size_t> random_cuts(std::size_t size, std::mt19937& rng) {
  std::vector<std::size_t> cuts;
  if (size < 2) return cuts;
  const std::size_t count = std::uniform_int_distribution<std::size_t>(1, std::min<std::size_t>(size - 1, 12))(rng);
  for (std::size_t i = 0; i < count; ++i) cuts.push_back(std::uniform_int_distribution<std::size_t>(1, size - 1)(rng));
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

}  // namespace

// Every request of the corpus, fed whole, byte by byte and in 100 random
// splits: the same requests or the same refusal each time.
TEST(HttpParser, CorpusWholeByteByByteAndInRandomSplits) {
  std::mt19937 rng(20240601);
  for (const auto& c : corpus()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(transcript(c.bytes, {}), c.expected);
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < c.bytes.size(); ++i) every.push_back(i);
    EXPECT_EQ(transcript(c.bytes, every), c.expected) << "byte by byte";
    for (int k = 0; k < 100; ++k) {
      const auto cuts = random_cuts(c.bytes.size(), rng);
      const std::string got = transcript(c.bytes, cuts);
      if (got != c.expected) {
        std::string where;
        for (auto at : cuts) where += std::to_string(at) + " ";
        ADD_FAILURE() << "split at " << where << ": " << got;
        break;
      }
    }
  }
}

// The head is given to the caller before the body: it stops there, with the
// fields parsed (names lower-case, values trimmed), and nothing allocated for
// a body that was only announced.
TEST(HttpParser, StopsAtTheEndOfTheHeadAndAllocatesOnlyWhatArrives) {
  net::http_request_parser p;
  const std::string head =
      "PUT /up HTTP/1.1\r\nHost: example\r\nX-Thing:  a b \r\nExpect: 100-continue\r\n"
      "Content-Length: 1000000\r\n\r\n";
  const std::string bytes = head + "first bytes";
  EXPECT_EQ(p.feed(bytes), head.size());
  ASSERT_TRUE(p.head_done());
  EXPECT_EQ(p.phase(), net::http_parse_phase::body);
  EXPECT_TRUE(p.body_expected());
  EXPECT_TRUE(p.request().expect_continue);
  EXPECT_EQ(p.request().content_length, 1000000u);
  ASSERT_NE(p.request().header("x-thing"), nullptr);
  EXPECT_EQ(*p.request().header("x-thing"), "a b");
  EXPECT_EQ(*p.request().header("host"), "example");
  EXPECT_EQ(p.request().header("absent"), nullptr);
  EXPECT_LT(p.buffered(), 1000u);  // the declared million is not allocated
  EXPECT_EQ(p.feed("first bytes"), 11u);
  EXPECT_LT(p.buffered(), 1000u);
  EXPECT_EQ(p.phase(), net::http_parse_phase::body);
  p.reset();
  EXPECT_EQ(p.phase(), net::http_parse_phase::head);
  EXPECT_EQ(p.feed(get), get.size());
  EXPECT_EQ(p.phase(), net::http_parse_phase::complete);
  EXPECT_FALSE(p.body_expected());
}

// Smaller bounds are honoured as given.
TEST(HttpParser, TheLimitsAreTheCallers) {
  net::http_limits small;
  small.max_request_line = 20;
  small.max_header_bytes = 40;
  small.max_headers = 2;
  small.max_body = 4;
  EXPECT_EQ(transcript("GET /12345678901234 HTTP/1.1\r\n", {}, small), "error 414");
  EXPECT_EQ(transcript("GET /1 HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", {}, small), "error 431");
  EXPECT_EQ(transcript("GET /1 HTTP/1.1\r\nHost: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n", {}, small),
            "error 431");
  EXPECT_EQ(transcript("POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", {}, small), "error 413");
  EXPECT_EQ(transcript("POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd", {}, small),
            "POST /1 HTTP/1.1 keep body=4:abcd; ");
  EXPECT_EQ(transcript("POST /1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n", {}, small),
            "error 413");
}

// An absolute-form target (what a client sends a proxy; RFC 9112 3.2.2: a
// server MUST accept it) was refused with a 400. Its path and query are the
// target now, and its authority replaces the Host field (or is the Host of an
// HTTP/1.0 request without one); the next request has its own Host.
TEST(HttpParser, AnAbsoluteFormTargetGivesItsPathAndItsAuthorityAsHost) {
  net::http_request_parser p;
  const std::string two = "GET http://127.0.0.1:8080/healthz?x=1 HTTP/1.1\r\nHost: other\r\nX-A: b\r\n\r\n" + get;
  const std::size_t first = p.feed(two);
  ASSERT_EQ(p.phase(), net::http_parse_phase::complete) << p.error().message;
  const net::http_request r = p.take();
  EXPECT_EQ(r.target, "/healthz?x=1");
  ASSERT_NE(r.header("host"), nullptr);
  EXPECT_EQ(*r.header("host"), "127.0.0.1:8080");
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(*r.header("x-a"), "b");
  p.feed(std::string_view(two).substr(first));
  ASSERT_EQ(p.phase(), net::http_parse_phase::complete) << p.error().message;
  EXPECT_EQ(*p.take().header("host"), "x");

  const auto old = net::parse_request("GET http://y HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old.request.has_value()) << old.error.message;
  EXPECT_EQ(old.request->target, "/");
  ASSERT_NE(old.request->header("host"), nullptr);
  EXPECT_EQ(*old.request->header("host"), "y");

  const auto ftp = net::parse_request("GET ftp://y/a HTTP/1.1\r\n" + host + "\r\n");
  ASSERT_FALSE(ftp.request.has_value());
  EXPECT_EQ(ftp.error.message, "unsupported request target: a path starting with '/', or an http(s) URI");
  const auto user = net::parse_request("GET http://u:p@y/a HTTP/1.1\r\n" + host + "\r\n");
  ASSERT_FALSE(user.request.has_value());
  EXPECT_EQ(user.error.message, "bad authority in the request target 'http://u:p@y/a'");
}

TEST(HttpParser, ParseRequestTakesTheFirstRequest) {
  std::size_t used = 0;
  const auto r = net::parse_request(post5 + get, {}, &used);
  ASSERT_TRUE(r.request.has_value()) << r.error.message;
  EXPECT_EQ(r.request->body, "hello");
  EXPECT_EQ(used, post5.size());
  const auto bad = net::parse_request("GET / HTTP/1.1\nHost: x\n\n");
  EXPECT_FALSE(bad.request.has_value());
  EXPECT_EQ(bad.error.status, 400);
  EXPECT_NE(bad.error.message.find("bare LF"), std::string::npos) << bad.error.message;
  const auto cut = net::parse_request("GET / HTTP/1.1\r\n");
  EXPECT_FALSE(cut.request.has_value());
  EXPECT_EQ(cut.error.message, "incomplete request");
}

TEST(HttpResponse, FormatsHeadsBodiesAndChunks) {
  const std::string resp = net::format_response({404, "text/plain", "nope", {}, {}, {}}, true, false);
  EXPECT_EQ(resp.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(resp.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_NE(resp.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(resp.substr(resp.size() - 8), "\r\n\r\nnope");
  // HEAD: the length the body would have, no body.
  const std::string head = net::format_response({200, "image/png", "12345", {}, {}, {}}, false, true);
  EXPECT_NE(head.find("Content-Length: 5\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  // No body and no length for 204 and 304.
  const std::string none = net::format_response({204, "text/plain", "ignored", {}, {}, {}}, true, false);
  EXPECT_EQ(none.find("Content-Length"), std::string::npos);
  EXPECT_EQ(none.substr(none.size() - 4), "\r\n\r\n");
  // More fields, and the framing of a streamed body.
  net::http_response r;
  r.headers.push_back({"Retry-After", "1"});
  const std::string chunked = net::format_response_head(r, net::http_framing::chunked, 0, true);
  EXPECT_NE(chunked.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(chunked.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_EQ(chunked.find("Content-Length"), std::string::npos);
  const std::string until_close = net::format_response_head(r, net::http_framing::close, 0, true);
  EXPECT_NE(until_close.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(net::format_chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(net::format_chunk(std::string(300, 'x')).substr(0, 5), "12c\r\n");
  EXPECT_EQ(std::string(net::reason_phrase(413)), "Content Too Large");
  // Fields a handler may not send: framing, line breaks, bad names.
  EXPECT_TRUE(net::valid_header_field({"X-Ok", "a b\tc"}));
  EXPECT_FALSE(net::valid_header_field({"X-Bad", "a\r\nInjected: 1"}));
  EXPECT_FALSE(net::valid_header_field({"Bad Name", "v"}));
  EXPECT_FALSE(net::valid_header_field({"Content-Length", "3"}));
  EXPECT_FALSE(net::valid_header_field({"transfer-encoding", "chunked"}));
}
