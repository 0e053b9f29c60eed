#pragma once
// Internal: what the thumbnail jobs share around the image path. A tally
// counts each item's outcome and tells the observer (a "Saved <out>" line, a
// message, progress); job_report() turns the counts into the report all three
// jobs return; validate() checks what all three take.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "scalekit/core/job.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::jobs::thumbnail::detail {

/// invalid_argument when the image options or the output directory cannot be used.
status validate(const options& image, const std::string& out_dir);

/// Counts of a run beyond made/skipped/failed (the random-URL job's).
struct extra_counts {
  std::uint64_t produced = 0;    ///< URLs the producers made
  std::uint64_t duplicates = 0;  ///< URLs whose thumbnail name was taken
  std::uint64_t dropped = 0;     ///< URLs left unfetched at the end
};

/// Thread-safe: items may finish on any thread; the observer's output() calls
/// are serialized here, as the observer requires.
class tally {
 public:
  explicit tally(core::observer& obs) : obs_(obs) {}

  /// Items expected, for the progress (0: open-ended). made_only: the
  /// progress counts the thumbnails made (toward a limit), not every item.
  void set_total(std::uint64_t total, bool made_only = false);
  /// An item's outcome: made -> "Saved <out>" on the output; skipped ->
  /// message "<item>: skipped, <reason>"; failed -> message "<item>: <reason>".
  void add(const std::string& item, const report& r, const std::string& out);
  void fail(const std::string& item, const std::string& reason) { add(item, report{outcome::failed, reason}, ""); }

  /// Items counted so far (made, skipped or failed).
  [[nodiscard]] std::uint64_t done() const;
  /// Thumbnails made so far.
  [[nodiscard]] std::uint64_t made() const;

  /// The report of a thumbnail job: its work ("N thumbnails made, ..."), the
  /// rate in images, mode and every count as JSON fields, failures = failed.
  [[nodiscard]] core::report job_report(std::string mode, std::chrono::nanoseconds elapsed,
                                        const extra_counts& extra = {}) const;

 private:
  core::observer& obs_;
  mutable std::mutex mutex_;
  // State below is protected by mutex_.
  std::uint64_t made_ = 0, skipped_ = 0, failed_ = 0, total_ = 0;
  bool made_only_ = false;
};

/// Adds the executor's fields to `r`, its kind shown as "images on <kind>".
void add_image_executor_fields(core::report& r, const core::executor& ex);

}  // namespace scalekit::jobs::thumbnail::detail
