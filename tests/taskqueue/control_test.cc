#include "scalekit/taskqueue/control.h"

#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>

#include "scalekit/taskqueue/base64.h"
#include "scalekit/taskqueue/keys.h"
#include "worker/revoked.h"

namespace celery = scalekit::taskqueue::celery;
using json = nlohmann::json;
using scalekit::taskqueue::detail::revoked_ids;

namespace {

// A request as kombu 5.2's Mailbox._publish writes it.
std::string request(const json& body) {
  return json{{"body", celery::base64_encode(body.dump())},
              {"content-encoding", "utf-8"},
              {"content-type", "application/json"},
              {"headers", {{"clock", 1}, {"expires", 0}}},
              {"properties", {{"delivery_mode", 2}, {"body_encoding", "base64"}, {"delivery_tag", "t"}}}}
      .dump();
}

}  // namespace

TEST(Control, ParsesARevokeWithAReply) {
  const auto r =
      celery::parse_control(request({{"method", "revoke"},
                                     {"arguments", {{"task_id", {"a", "b"}}, {"terminate", true}, {"signal", "KILL"}}},
                                     {"destination", {"w1@h"}},
                                     {"pattern", nullptr},
                                     {"matcher", nullptr},
                                     {"ticket", "T"},
                                     {"reply_to", {{"exchange", "reply.celery.pidbox"}, {"routing_key", "O"}}}}));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->method, "revoke");
  EXPECT_EQ(r->task_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r->terminate);
  EXPECT_EQ(r->signal, "KILL");
  EXPECT_TRUE(r->wants_reply());
  EXPECT_TRUE(r->is_for("w1@h"));
  EXPECT_FALSE(r->is_for("w2@h"));
}

// Celery's signum(): numbers, and upper-case names with or without SIG.
TEST(Control, SignalsAreReadAsCeleryReadsThem) {
  EXPECT_EQ(celery::signal_number("SIGTERM"), SIGTERM);
  EXPECT_EQ(celery::signal_number("KILL"), SIGKILL);
  EXPECT_EQ(celery::signal_number("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(celery::signal_number("9"), 9);
  EXPECT_FALSE(celery::signal_number("sigterm"));  // Celery wants upper case
  EXPECT_FALSE(celery::signal_number("NOPE"));
  EXPECT_FALSE(celery::signal_number("0"));
  EXPECT_FALSE(celery::signal_number("65"));
  EXPECT_FALSE(celery::signal_number(""));
}

TEST(Control, ABroadcastWithoutReplyIsForEveryone) {
  const auto r = celery::parse_control(
      request({{"method", "revoke"}, {"arguments", {{"task_id", "a"}}}, {"destination", nullptr}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->task_ids, (std::vector<std::string>{"a"}));
  EXPECT_FALSE(r->wants_reply());
  EXPECT_TRUE(r->is_for("anyone@h"));
}

TEST(Control, RefusesWhatIsNotARequest) {
  EXPECT_FALSE(celery::parse_control("not json").ok());
  EXPECT_FALSE(celery::parse_control(R"({"body": "!!!", "content-type": "application/json",
      "properties": {"body_encoding": "base64"}})")
                   .ok());
  EXPECT_FALSE(celery::parse_control(request({{"arguments", json::object()}})).ok());  // no method
}

TEST(Control, TheReplyCarriesTheTicketAndTheHostname) {
  celery::control_request r;
  r.reply_exchange = "reply.celery.pidbox";
  r.reply_routing_key = "O";
  r.ticket = "T";
  const json env = json::parse(celery::make_control_reply(r, "w1@h", celery::ok_reply("pong"), 7));
  EXPECT_EQ(env["headers"]["ticket"], "T");
  EXPECT_EQ(env["properties"]["delivery_info"]["routing_key"], "O");
  const json body = json::parse(celery::base64_decode(env["body"].get<std::string>()).value());
  EXPECT_EQ(body, json::parse(R"({"w1@h": {"ok": "pong"}})"));
}

TEST(Control, TheReplyQueueComesFromKombusBindings) {
  const std::string sep(celery::sep);
  const std::vector<std::string> members{"X" + sep + sep + "X.reply.celery.pidbox",
                                         "O" + sep + sep + "O.reply.celery.pidbox"};
  EXPECT_EQ(celery::reply_queue(members, "O"), "O.reply.celery.pidbox");
  EXPECT_EQ(celery::reply_queue(members, "gone"), "");
}

TEST(RevokedIds, RemembersForABoundedTimeAndCount) {
  revoked_ids r(3, 100);
  r.add("a", 0);
  r.add("b", 1);
  EXPECT_TRUE(r.contains("a", 50));
  EXPECT_FALSE(r.contains("a", 100.5));  // expired
  EXPECT_TRUE(r.contains("b", 100.5));
  r.add("c", 102);
  r.add("d", 103);
  r.add("e", 104);  // over the limit: the oldest goes
  EXPECT_FALSE(r.contains("b", 104));
  EXPECT_EQ(r.list(104), (std::vector<std::string>{"c", "d", "e"}));
  r.add("c", 105);  // revoked again: now the newest
  r.add("f", 106);
  EXPECT_EQ(r.list(106), (std::vector<std::string>{"e", "c", "f"}));
  EXPECT_EQ(r.size(), 3u);
}

TEST(RevokedIds, ManyReAddsStayBounded) {
  revoked_ids r(10, 1e9);
  for (int i = 0; i < 100000; ++i) r.add("id" + std::to_string(i % 20), i);
  EXPECT_EQ(r.size(), 10u);
  EXPECT_EQ(r.list(1e5).size(), 10u);
}
