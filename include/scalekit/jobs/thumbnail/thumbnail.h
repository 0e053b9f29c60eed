#pragma once
// The thumbnail job: chapter 5's thumbnailer (Pillow's Image.thumbnail) on
// libvips. An image is shrunk on load to fit in width x height keeping its
// aspect ratio (never enlarged), turned upright by its EXIF orientation,
// converted to sRGB from whatever profile or colour space it has (CMYK
// included), its first frame when animated, and written as PNG atomically.
//
// Outcomes are values, so that they cross process boundaries intact: made,
// skipped (not an image: recognised by content, not by name) or failed with a
// reason class (truncated, corrupt, too large, cannot write).

#include <cstdint>
#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::jobs::thumbnail {

struct options {
  std::uint32_t width = 64, height = 64;
  /// Images that declare more pixels are refused from their header, before
  /// any pixel is decoded or allocated (decompression bombs).
  std::uint64_t max_pixels = 100'000'000;
};

/// "WxH" or "N" (N x N); sides 1..10000.
result<std::pair<std::uint32_t, std::uint32_t>> parse_size(std::string_view text);

enum class outcome : std::uint8_t { made, skipped, failed };

struct report {
  outcome what = outcome::failed;
  std::string reason;                   ///< skipped/failed: "not an image", "truncated: ...", "too large: ...", ...
  std::uint32_t width = 0, height = 0;  ///< made: the thumbnail's size
  std::uint32_t source_width = 0, source_height = 0;
};

/// Thumbnail of the image file `in`, written to `out` (a PNG; parent
/// directories are created).
report from_file(const std::string& in, const std::string& out, const options& o);
/// Thumbnail of an image held in memory (a download).
report from_buffer(std::string_view data, const std::string& out, const options& o);

/// Executor tasks, so that images run on threads or in isolated processes:
/// a decoder that crashes or hangs costs that one item.
inline constexpr const char* file_task = "thumbnail.file";
inline constexpr const char* buffer_task = "thumbnail.buffer";
std::string encode_file_call(const std::string& in, const std::string& out, const options& o);
std::string encode_buffer_call(std::string_view data, const std::string& out, const options& o);
std::string encode_report(const report& r);
report decode_report(std::string_view bytes);
void register_tasks();

}  // namespace scalekit::jobs::thumbnail
