#pragma once
// A thumbnail as an executor call whose answer is the PNG itself (serve's
// POST /thumbnail): made and read without libvips, run by the task png_task,
// which register_tasks() registers (scalekit-heavy's worker processes have it).
// A server links only scalekit::thumbnail_calls and sends the call to a
// process pool of scalekit-heavy: libvips never loads in the server, and a
// decoder that crashes on a hostile image costs that pool process, not the server.
//
//   auto answer = png_answer_of(pool.submit(png_task, encode_png_call(body, o)));

#include <string>
#include <string_view>

#include "scalekit/core/status.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::jobs::thumbnail {

inline constexpr const char* png_task = "thumbnail.png";

/// The payload of png_task: the image's bytes and the options.
std::string encode_png_call(std::string_view image, const options& o);

struct png_answer {
  report what;      ///< as to_png reports it
  std::string png;  ///< when made: the thumbnail
};

/// The answer a png_task call carries; a call that failed (its process died,
/// it timed out) or bytes that are not an answer are a failed report, "the
/// decoder failed: <why>".
png_answer png_answer_of(const result<std::string>& call_result);

}  // namespace scalekit::jobs::thumbnail
