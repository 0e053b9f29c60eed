#include "scalekit/taskqueue/celery.h"

#include <gtest/gtest.h>

// The formats have a test file each (envelope_test.cc, result_meta_test.cc,
// ...). This one checks that the umbrella header alone brings them all.
namespace celery = scalekit::taskqueue::celery;

TEST(Celery, TheUmbrellaHeaderBringsEveryFormat) {
  const std::string id = celery::new_uuid();                                  // ids.h
  EXPECT_EQ(celery::base64_decode(celery::base64_encode("x")).value(), "x");  // base64.h
  EXPECT_EQ(celery::meta_key(id), "celery-task-meta-" + id);                  // keys.h
  celery::publish_options o;                                                  // envelope.h
  o.id = id;
  EXPECT_EQ(celery::parse_envelope(celery::make_envelope("t", "[]", "{}", o))->id, id);
  EXPECT_EQ(celery::parse_meta(celery::success_meta(id, "1", ""))->status, "SUCCESS");  // result_meta.h
  EXPECT_EQ(celery::unpack_bytes(celery::pack_bytes("y")).value(), "y");                // packing.h
  EXPECT_EQ(celery::core_task_name("t"), "celery:t");                                   // registry.h
  EXPECT_STREQ(celery::run_task_name, "scalekit.run");                                  // builtin_tasks.h
}
