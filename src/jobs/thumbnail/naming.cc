#include "naming.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace scalekit::jobs::thumbnail::detail {

namespace fs = std::filesystem;

std::string url_thumb_name(std::string url) {
  url = url.substr(0, url.find_first_of("?#"));
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto last = url.rfind('/');
  const std::string b = last == std::string::npos ? url : url.substr(last + 1);
  const std::string rest = last == std::string::npos ? "" : url.substr(0, last);
  const auto prev = rest.rfind('/');
  std::string a = prev == std::string::npos ? rest : rest.substr(prev + 1);
  std::string stem = b.substr(0, b.find('.'));
  if (stem.empty()) stem = "image";
  if (a.empty() || a[0] == '.') a = "url";
  return a + "_" + stem + "_thumb.png";
}

std::vector<std::string> url_thumb_names(const std::vector<std::string>& urls) {
  static constexpr std::string_view suffix = "_thumb.png";
  std::vector<std::string> names;
  names.reserve(urls.size());
  std::map<std::string, int> seen;
  for (const auto& url : urls) {
    std::string name = url_thumb_name(url);
    if (const int n = ++seen[name]; n > 1)
      name = name.substr(0, name.size() - suffix.size()) + "-" + std::to_string(n) + std::string(suffix);
    names.push_back(std::move(name));
  }
  return names;
}

std::vector<file_item> name_files(std::vector<std::pair<std::string, std::string>> found, const std::string& out_dir) {
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<file_item> items;
  items.reserve(found.size());
  std::set<std::string> taken;
  for (auto& [in, rel] : found) {
    const fs::path r(rel);
    std::string out = (fs::path(out_dir) / r.parent_path() / (r.stem().string() + "_thumb.png")).string();
    if (!taken.insert(out).second) {
      out = (fs::path(out_dir) / r.parent_path() / (r.filename().string() + "_thumb.png")).string();
      taken.insert(out);
    }
    items.push_back({std::move(in), std::move(out)});
  }
  return items;
}

}  // namespace scalekit::jobs::thumbnail::detail
