// The thumbnail tasks: payloads in, reports out, and their registration.

#include "tasks.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"

namespace scalekit::jobs::thumbnail {

namespace detail {

namespace {

void put_options(core::wire_writer& w, const options& o) { w.put(o.width).put(o.height).put(o.max_pixels); }
options get_options(core::wire_reader& in) {
  options o;
  o.width = in.get<std::uint32_t>();
  o.height = in.get<std::uint32_t>();
  o.max_pixels = in.get<std::uint64_t>();
  return o;
}

// Fault injection for tests: SCALEKIT_THUMBNAIL_FAULT=crash:<file name> or
// hang:<file name> makes the task die or hang on that file, as a broken
// decoder would, so tests can show it costs one item under processes.
void inject_fault(const std::string& path) {
  const char* fault = std::getenv("SCALEKIT_THUMBNAIL_FAULT");
  if (fault == nullptr) return;
  const std::string f(fault), name = std::filesystem::path(path).filename().string();
  if (f == "crash:" + name) std::abort();
  if (f == "hang:" + name)
    for (;;) ::pause();
}

core::bytes file_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const std::string src(in.get_string()), dst(in.get_string());
  const options o = get_options(in);
  in.expect_end();
  inject_fault(src);
  return encode_report(from_file(src, dst, o));
}

core::bytes buffer_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const std::string_view data = in.get_string();
  const std::string dst(in.get_string());
  const options o = get_options(in);
  in.expect_end();
  return encode_report(from_buffer(data, dst, o));
}

}  // namespace

std::string encode_file_call(const std::string& in, const std::string& out, const options& o) {
  core::wire_writer w;
  w.put_string(in).put_string(out);
  put_options(w, o);
  return w.take();
}

std::string encode_buffer_call(std::string_view data, const std::string& out, const options& o) {
  core::wire_writer w;
  w.put_string(data).put_string(out);
  put_options(w, o);
  return w.take();
}

std::string encode_report(const report& r) {
  return core::wire_writer()
      .put(static_cast<std::uint8_t>(r.what))
      .put_string(r.reason)
      .put(r.width)
      .put(r.height)
      .put(r.source_width)
      .put(r.source_height)
      .take();
}

report decode_report(std::string_view bytes) {
  core::wire_reader in(bytes);
  report r;
  r.what = static_cast<outcome>(in.get<std::uint8_t>());
  r.reason = std::string(in.get_string());
  r.width = in.get<std::uint32_t>();
  r.height = in.get<std::uint32_t>();
  r.source_width = in.get<std::uint32_t>();
  r.source_height = in.get<std::uint32_t>();
  in.expect_end();
  return r;
}

report report_of(const result<std::string>& call_result) {
  if (!call_result.ok()) return report{outcome::failed, "the decoder failed: " + call_result.error().message()};
  try {
    return decode_report(call_result.value());
  } catch (const std::exception& e) {
    return report{outcome::failed, std::string("the decoder failed: ") + e.what()};
  }
}

}  // namespace detail

void register_tasks() {
  core::task_registry::global().add(detail::file_task, detail::file_task_body);
  core::task_registry::global().add(detail::buffer_task, detail::buffer_task_body);
}

}  // namespace scalekit::jobs::thumbnail
