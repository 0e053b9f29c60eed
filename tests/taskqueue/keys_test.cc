#include "scalekit/taskqueue/keys.h"

#include <gtest/gtest.h>

#include <string>

namespace celery = scalekit::taskqueue::celery;

TEST(Celery, QueueKeysFollowKombusPriorityBuckets) {
  EXPECT_EQ(celery::queue_key("celery", 0), "celery");
  EXPECT_EQ(celery::queue_key("celery", 2), "celery");
  EXPECT_EQ(celery::queue_key("celery", 5), std::string("celery\x06\x16") + "3");
  EXPECT_EQ(celery::queue_key("celery", 9), std::string("celery\x06\x16") + "9");
  EXPECT_EQ(celery::queue_keys("q").size(), 4u);
  EXPECT_EQ(celery::queue_of_key(std::string("q\x06\x16") + "6"), "q");
  EXPECT_EQ(celery::binding_member("celery"), std::string("celery\x06\x16\x06\x16") + "celery");
}

TEST(Celery, PrioritiesOutsideZeroToNineClampAndListsPopInBucketOrder) {
  EXPECT_EQ(celery::queue_key("q", -3), "q");
  EXPECT_EQ(celery::queue_key("q", 42), std::string("q\x06\x16") + "9");
  const auto keys = celery::queue_keys("q");
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0], "q");
  EXPECT_EQ(keys[1], std::string("q\x06\x16") + "3");
  EXPECT_EQ(keys[2], std::string("q\x06\x16") + "6");
  EXPECT_EQ(keys[3], std::string("q\x06\x16") + "9");
  EXPECT_EQ(celery::queue_of_key("plain"), "plain");
}

// Section 2 of the protocol spec, name by name.
TEST(Celery, KeyNamesAreTheSpecsTable) {
  EXPECT_EQ(celery::binding_key("celery"), "_kombu.binding.celery");
  EXPECT_STREQ(celery::unacked_key, "unacked");
  EXPECT_STREQ(celery::unacked_index_key, "unacked_index");
  EXPECT_STREQ(celery::unacked_mutex_key, "unacked_mutex");
  EXPECT_EQ(celery::meta_key("4c12-id"), "celery-task-meta-4c12-id");
  EXPECT_EQ(celery::meta_key("x").rfind(celery::meta_key_prefix, 0), 0u);
  EXPECT_EQ(celery::heartbeat_channel(0), "/0.celeryev/worker.heartbeat");
  EXPECT_EQ(celery::heartbeat_channel(15), "/15.celeryev/worker.heartbeat");
  EXPECT_EQ(celery::deliveries_key("4c12-id"), "scalekit-deliveries-4c12-id");
  EXPECT_EQ(celery::dead_letter_key("celery"), "scalekit-dead-letters-celery");
  EXPECT_EQ(celery::worker_key("scalekit@vm", 8787), "scalekit-worker-scalekit@vm-8787");
  EXPECT_EQ(celery::worker_key("w", 1).rfind(celery::worker_key_prefix, 0), 0u);
}
