#include "vips_support.h"

#include <vips/vips.h>

#include <vips/vector.h>  // vips_vector_set_enabled (needs vips.h first)

#include <algorithm>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace scalekit::jobs::imaging {

void ensure_vips() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = VIPS_INIT("scalekit") == 0;
    if (!ok) return;
    // One thread per image: parallelism is the executor's (images at once),
    // not libvips' (threads inside one image).
    vips_concurrency_set(1);
    // Thumbnails of many different files: the operation cache only holds
    // memory that will not be reused.
    vips_cache_set_max(0);
    // No liborc code: freeing orc programs races when images are made on
    // several threads at once (a SIGSEGV in orc_code_free about once in 30
    // runs of 300 thumbnails on threads), and without it thumbnails measured
    // as fast on processes and faster on threads (1.94 s vs 2.13 s, hyperfine).
    // A workaround listed in docs/DESIGN.md.
    vips_vector_set_enabled(FALSE);
    // libvips' warnings (a bad tile, a profile it could not apply) go to
    // stderr through GLib; our errors are the one-line messages we print.
    g_log_set_handler(
        "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
        [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
  });
  if (!ok) throw std::runtime_error("libvips failed to start: " + take_vips_error());
}

std::string take_vips_error() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  return one_line(std::move(text));
}

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

bool cut_short(std::string_view head, std::string_view tail) {
  if (head.substr(0, 2) == "\xFF\xD8") return tail.size() < 2 || tail.substr(tail.size() - 2) != "\xFF\xD9";
  if (head.substr(0, 8) == "\x89PNG\r\n\x1A\n") return tail.find("IEND") == std::string_view::npos;
  return false;
}

bool file_cut_short(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char head[8] = {}, tail[16] = {};
  if (!f.read(head, sizeof head)) return false;
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(f.tellg());
  const std::streamoff want = std::min<std::streamoff>(size, sizeof tail);
  f.seekg(size - want);
  if (!f.read(tail, want)) return false;
  return cut_short({head, sizeof head}, {tail, static_cast<std::size_t>(want)});
}

}  // namespace scalekit::jobs::imaging
