#include "scalekit/net/http.h"

// Unit tests of net's HTTP/1.1 messages, which scalekit's HTTP server (and
// through it `scalekit dummyimage serve`) reads and writes: request heads,
// keep-alive, responses.

#include <gtest/gtest.h>

#include <string>

namespace net = scalekit::net;

TEST(Http, ParseRequestHead) {
  auto r = net::parse_request_head("GET /a/b.jpg HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, "/a/b.jpg");
  EXPECT_FALSE(r->keep_alive);
  auto old = net::parse_request_head("HEAD / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->keep_alive);
  auto ka = net::parse_request_head("GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(ka.ok());
  EXPECT_TRUE(ka->keep_alive);
  for (const char* bad :
       {"GET /\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "get / HTTP/1.1\r\n\r\n",
        "GET x HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"})
    EXPECT_FALSE(net::parse_request_head(bad).ok()) << bad;
  const std::string resp = net::format_response({404, "text/plain", "nope"}, true, false);
  EXPECT_EQ(resp.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(resp.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(resp.substr(resp.size() - 8), "\r\n\r\nnope");
  const std::string head = net::format_response({200, "image/png", "12345"}, false, true);
  EXPECT_NE(head.find("Content-Length: 5\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}
