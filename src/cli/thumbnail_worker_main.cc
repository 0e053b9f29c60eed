// scalekit-thumbnail-worker: a process-pool worker for the thumbnail tasks,
// which scalekit-heavy (thumbnail --executor processes) and scalekit-serve
// (POST /thumbnail) start instead of re-executing themselves: it loads only
// the fast path's libraries, and libvips as a plugin when an image needs it.
// Run by hand, it says so and exits 2.

#include <cstdio>

#include "scalekit/core/process_pool.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

int main(int argc, char** argv) {
  scalekit::jobs::thumbnail::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  std::fprintf(stderr, "scalekit-thumbnail-worker: a worker process of 'scalekit thumbnail', not run by hand\n");
  return 2;
}
