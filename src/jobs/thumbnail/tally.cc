#include "tally.h"

#include <string>

#include "scalekit/core/executor.h"
#include "scalekit/core/input_file.h"

namespace scalekit::jobs::thumbnail::detail {

status validate(const options& image, const std::string& out_dir) {
  // The sides parse_size accepts.
  constexpr std::uint32_t max_side = 10000;
  if (image.width < 1 || image.width > max_side || image.height < 1 || image.height > max_side)
    return status::invalid_argument("size " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                    " has a side outside 1.." + std::to_string(max_side));
  if (image.max_pixels < 1) return status::invalid_argument("max pixels must be at least 1");
  if (out_dir.empty()) return status::invalid_argument("-o OUTDIR is required");
  if (status s = core::check_output_dir(out_dir); !s.ok()) return s;  // before any image is read
  return status{};
}

void tally::set_total(std::uint64_t total, bool made_only) {
  std::scoped_lock lock(mutex_);
  total_ = total;
  made_only_ = made_only;
}

void tally::add(const std::string& item, const report& r, const std::string& out) {
  std::scoped_lock lock(mutex_);
  switch (r.what) {
    case outcome::made:
      ++made_;
      obs_.output("Saved " + out + "\n");
      break;
    case outcome::skipped:
      ++skipped_;
      obs_.message(item + ": skipped, " + r.reason);
      break;
    case outcome::failed:
      ++failed_;
      obs_.message(item + ": " + r.reason);
      break;
  }
  // Never "1950.0% (39/2 images)": toward a limit only what was made counts.
  obs_.progress(made_only_ ? made_ : made_ + skipped_ + failed_, total_, "images");
}

std::uint64_t tally::made() const {
  std::scoped_lock lock(mutex_);
  return made_;
}

std::uint64_t tally::done() const {
  std::scoped_lock lock(mutex_);
  return made_ + skipped_ + failed_;
}

core::report tally::job_report(std::string mode, std::chrono::nanoseconds elapsed, const extra_counts& extra) const {
  std::scoped_lock lock(mutex_);
  core::report r("thumbnail");
  r.work = std::to_string(made_) + " thumbnails made, " + std::to_string(skipped_) + " skipped (not images), " +
           std::to_string(failed_) + " failed";
  if (extra.produced) r.work += ", " + std::to_string(extra.produced) + " URLs produced";
  if (extra.duplicates) r.work += ", " + std::to_string(extra.duplicates) + " duplicate names skipped";
  if (extra.dropped) r.work += ", " + std::to_string(extra.dropped) + " URLs left unfetched at the end";
  r.elapsed = elapsed;
  r.items = static_cast<double>(made_);
  r.unit = "images";
  r.failures = failed_;
  // The work says these.
  r.add("mode", std::move(mode), "");
  r.add("made", made_, "");
  r.add("skipped", skipped_, "");
  r.add("failed", failed_, "");
  r.add("produced", extra.produced, "");
  r.add("duplicates", extra.duplicates, "");
  r.add("dropped", extra.dropped, "");
  return r;
}

void add_image_executor_fields(core::report& r, const core::executor& ex) {
  core::add_executor_fields(r, ex);
  r.add("executor", std::string(core::to_string(ex.kind())), "images on {}");
}

}  // namespace scalekit::jobs::thumbnail::detail
