#pragma once
// Internal: the executor tasks of the thumbnail jobs and their payloads. One
// call is one image, from a file or from a buffer (a download); its result is
// the image's report, as bytes, so that it crosses process boundaries intact.

#include <string>
#include <string_view>

#include "scalekit/core/wire.h"
#include "scalekit/jobs/thumbnail/thumbnail.h"

namespace scalekit::jobs::thumbnail::detail {

inline constexpr const char* file_task = "thumbnail.file";
inline constexpr const char* buffer_task = "thumbnail.buffer";

std::string encode_file_call(const std::string& in, const std::string& out, const options& o);
std::string encode_buffer_call(std::string_view data, const std::string& out, const options& o);
/// The options' and the report's wire forms (calls.cc, with png_call.h's).
void put_options(core::wire_writer& w, const options& o);
options get_options(core::wire_reader& in);
std::string encode_report(const report& r);
/// @throws core::wire_error for bytes that are not a report.
report decode_report(std::string_view bytes);

/// A call's result as the jobs count it: the report it carries; a call that
/// failed (its worker died, it timed out) or bytes that are not a report are
/// a failed item, "the decoder failed: <why>".
report report_of(const result<std::string>& call_result);

}  // namespace scalekit::jobs::thumbnail::detail
