// The libvips path as a plugin (scalekit-thumbnail):
// scalekit-thumbnail-vips.so, beside the running executable (the build tree
// and libexec/scalekit both hold them together), loaded on first need and
// kept for the process.

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "vips_path.h"

namespace scalekit::jobs::thumbnail::detail {

namespace {

constexpr const char* plugin_name = "scalekit-thumbnail-vips.so";

// The table, or the reason there is none.
struct loaded {
  const vips_path* path = nullptr;
  std::string error;
};

loaded load_plugin() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {nullptr, "cannot find this program's directory: " + ec.message()};
  const std::string file = (self.parent_path() / plugin_name).string();
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return {nullptr, "cannot load libvips' plugin: " + std::string(::dlerror())};
  using entry = const vips_path* (*)();
  auto get = reinterpret_cast<entry>(::dlsym(handle, "scalekit_thumbnail_vips_path"));
  if (get == nullptr) return {nullptr, "'" + file + "' is not scalekit's libvips plugin"};
  return {get(), {}};
}

}  // namespace

const vips_path& get_vips_path() {
  static const loaded plugin = load_plugin();  // never unloaded: libvips keeps threads and types
  if (plugin.path == nullptr) throw std::runtime_error(plugin.error);
  return *plugin.path;
}

}  // namespace scalekit::jobs::thumbnail::detail
