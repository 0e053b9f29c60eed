// The thumbnail tasks: payloads in, reports out, and their registration.

#include "tasks.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "scalekit/core/task.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/thumbnail/png_call.h"

namespace scalekit::jobs::thumbnail {

namespace detail {

namespace {

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

// An image in, its report and its thumbnail's PNG out (png_call.h).
core::bytes png_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const std::string_view data = in.get_string();
  const options o = get_options(in);
  in.expect_end();
  std::string png;
  const report r = to_png(data, o, png);
  return core::wire_writer().put_string(encode_report(r)).put_string(png).take();
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

}  // namespace detail

void register_tasks() {
  core::task_registry::global().add(detail::file_task, detail::file_task_body);
  core::task_registry::global().add(detail::buffer_task, detail::buffer_task_body);
  core::task_registry::global().add(png_task, detail::png_task_body);
}

}  // namespace scalekit::jobs::thumbnail
