// scalekit-heavy: the jobs of scalekit whose libraries are heavy to load
// (libvips, libcurl), kept out of the main binary so that only these pay for
// them at start. scalekit hands these subcommands over with exec; run
// directly, it behaves the same.

#include <CLI/CLI.hpp>

#include "common.h"
#include "scalekit/core/process_pool.h"
#include "scalekit/jobs/dummyimage/dummyimage.h"
#include "scalekit/jobs/rle/rle.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

int main(int argc, char** argv) {
  // Worker processes of these jobs are re-executions of this binary.
  scalekit::jobs::rle::register_tasks();
  scalekit::jobs::thumbnail::register_tasks();
  scalekit::jobs::dummyimage::register_tasks();
  if (auto rc = scalekit::core::run_worker_if_requested(argc, argv)) return *rc;
  using namespace scalekit::cli;
  start_process();
  CLI::App app;
  setup_app(app);
  add_fetch_command(app);
  add_rle_command(app);
  add_thumbnail_command(app);
  add_dummyimage_command(app);
  return run_app(app, argc, argv);
}
