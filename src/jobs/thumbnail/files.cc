// thumbnail::run_files: the seed's disk thumbnailer. The inputs are listed
// first (directories walked in parallel), every output named before any image
// is made, then the images go to the executor as thumbnail.file calls whose
// reports come back in output order (map_streaming).

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <set>

#include "naming.h"
#include "scalekit/core/executor.h"
#include "scalekit/core/input_file.h"
#include "scalekit/jobs/find/find.h"
#include "tally.h"
#include "tasks.h"

namespace scalekit::jobs::thumbnail {

namespace {

namespace fs = std::filesystem;

// Every image candidate under the inputs as (path, path relative to the
// output directory). An input that cannot be read is a failed item; an entry
// the walk cannot read is a message, counted in `walk_errors`.
std::vector<std::pair<std::string, std::string>> list_inputs(const files_options& o, detail::tally& t,
                                                             core::observer& obs, std::uint64_t& walk_errors) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& input : o.inputs) {
    if (obs.stop_requested()) break;
    struct stat st;
    if (::stat(input.c_str(), &st) != 0) {  // a symbolic link loop says so, not "no such file"
      t.fail(input, "cannot read: " + core::path_error_words(errno));
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {  // a file; from_file refuses what is not a regular one
      found.emplace_back(input, fs::path(input).filename().string());
      continue;
    }
    std::vector<std::string> paths;
    std::mutex m;
    find::walk_options wo;
    wo.regular_files_only = true;
    auto r = find::walk(
        input, "", wo,
        [&](std::string_view batch) {
          std::scoped_lock lock(m);
          for (std::size_t at = 0; at < batch.size();) {
            const auto nl = batch.find('\n', at);
            paths.emplace_back(batch.substr(at, nl - at));
            at = nl + 1;
          }
        },
        [&](const std::string& message) {
          std::scoped_lock lock(m);
          ++walk_errors;
          obs.message(message);
        });
    if (!r.ok()) {
      t.fail(input, r.error().message());
      continue;
    }
    const fs::path base = fs::absolute(input).lexically_normal();
    for (auto& p : paths) found.emplace_back(p, fs::absolute(p).lexically_normal().lexically_relative(base).string());
  }
  return found;
}

// invalid_argument when a thumbnail would be written over one of the inputs
// (the same path, or a link to it): `thumbnail DIR -o DIR` run twice makes
// a.jpg's thumbnail a_thumb.png while a_thumb.png is an input.
status check_outputs(const std::vector<detail::file_item>& items) {
  std::set<std::pair<dev_t, ino_t>> inputs;
  for (const auto& it : items)
    if (const auto id = core::identify(it.in)) inputs.insert({id->dev, id->ino});
  for (const auto& it : items) {
    const auto id = core::identify(it.out);
    if (!id || !inputs.count({id->dev, id->ino})) continue;
    for (const auto& other : items) {
      if (core::identify(other.in) == id)
        return status::invalid_argument("the thumbnail of '" + it.in + "' would be written over the input '" +
                                        other.in + "' (the same file): choose another output directory");
    }
  }
  return {};
}

}  // namespace

result<core::report> run_files(const files_options& o, core::executor& ex, core::observer& obs) {
  if (status s = detail::validate(o.image, o.out_dir); !s.ok()) return s;
  if (o.inputs.empty()) return status::invalid_argument("no inputs: give directories or image files");
  detail::tally t(obs);
  std::uint64_t walk_errors = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto items = detail::name_files(list_inputs(o, t, obs, walk_errors), o.out_dir);
  if (obs.stop_requested()) return status::cancelled("thumbnail: stopped while listing the inputs");
  if (status s = check_outputs(items); !s.ok()) return s;  // before any thumbnail is written
  const core::cancel_on_stop stop_guard(ex, obs);

  std::vector<core::bytes> payloads;
  payloads.reserve(items.size());
  for (const auto& it : items) payloads.push_back(detail::encode_file_call(it.in, it.out, o.image));
  t.set_total(t.done() + items.size());  // the inputs that could not be read are done already
  std::uint64_t not_run = 0;
  ex.map_streaming(detail::file_task, std::move(payloads), [&](std::size_t i, result<core::bytes>& r) {
    // After a stop, calls end cancelled: not the items' failures.
    if (!r.ok() && r.error().code() == status_code::cancelled && obs.stop_requested()) {
      ++not_run;
      return;
    }
    t.add(items[i].in, detail::report_of(r), items[i].out);
  });
  if (obs.stop_requested() && not_run > 0)
    return status::cancelled("thumbnail: stopped, " + std::to_string(not_run) + " of " + std::to_string(items.size()) +
                             " images not made");

  core::report r = t.job_report("files", std::chrono::steady_clock::now() - t0);
  r.failures += walk_errors;
  r.add("unreadable", walk_errors, walk_errors > 0 ? "{} entries not read" : "");
  detail::add_image_executor_fields(r, ex);
  return r;
}

}  // namespace scalekit::jobs::thumbnail
