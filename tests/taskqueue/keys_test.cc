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
