#include "scalekit/taskqueue/ids.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <set>
#include <string>

#include "shape.h"

namespace celery = scalekit::taskqueue::celery;
using scalekit::testing::has_shape;

TEST(Celery, UuidsAreVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = celery::new_uuid();
    ASSERT_TRUE(has_shape(id, "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx")) << id;
    ASSERT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // the RFC 4122 variant
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Celery, ClocksArePythonsAndAgreeWithTheSystemClock) {
  const auto before = static_cast<double>(std::time(nullptr));
  const double now = celery::unix_now();
  EXPECT_GE(now, before);
  EXPECT_LT(now, before + 5);
  const std::string iso = celery::utc_isoformat_now();
  EXPECT_TRUE(has_shape(iso, "9999-99-99T99:99:99.999999")) << iso;  // naive UTC, microseconds always
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  EXPECT_EQ(std::stoi(iso.substr(0, 4)), tm.tm_year + 1900);
  EXPECT_FALSE(celery::host_name().empty());
}
