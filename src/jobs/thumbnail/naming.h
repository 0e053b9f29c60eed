#pragma once
// Internal: where each thumbnail goes. Pure functions of the inputs' names, so
// that a run's outputs are known before any image is made and no two items
// write the same file.

#include <string>
#include <utility>
#include <vector>

namespace scalekit::jobs::thumbnail::detail {

/// The seed's name for a URL: ".../<a>/<b>.jpg" -> "<a>_<b>_thumb.png" (the
/// query and fragment ignored; "url" for a missing or dotted <a>, "image" for
/// an empty <b>).
std::string url_thumb_name(std::string url);

/// url_thumb_name of each URL, in order; a name met again gets -2, -3, ...
/// ("<a>_<b>-2_thumb.png"), so nothing is overwritten.
std::vector<std::string> url_thumb_names(const std::vector<std::string>& urls);

/// A file to thumbnail and the path of its thumbnail.
struct file_item {
  std::string in, out;
};

/// Outputs for files found under the inputs, each given as (its path, its
/// path relative to out_dir): name.ext -> <out_dir>/<rel dir>/name_thumb.png.
/// Sorted by relative path; when two files of one directory share a stem
/// (a.jpg, a.png), the later ones keep their extension (a.png_thumb.png).
std::vector<file_item> name_files(std::vector<std::pair<std::string, std::string>> found, const std::string& out_dir);

}  // namespace scalekit::jobs::thumbnail::detail
